/** Per-block minting (PROTOCOL.md 1.1): owner cut 11796/65535, the rest split 50:50 into pending miner/validator pools. */
import { OWNER_CUT_U16, type SubnetState } from "./state.ts";

export interface BlockEmissionSplit {
  readonly owner: bigint;
  readonly server: bigint;
  readonly validator: bigint;
}

export function splitBlockEmission(alphaOut: bigint): BlockEmissionSplit {
  const owner = (alphaOut * BigInt(OWNER_CUT_U16)) / 65535n;
  const rest = alphaOut - owner;
  const server = rest / 2n;
  return { owner, server, validator: rest - server };
}

export function accrueBlockEmission(subnet: SubnetState, alphaOut: bigint): void {
  const split = splitBlockEmission(alphaOut);
  subnet.ownerEmission += split.owner;
  subnet.pendingServerEmission += split.server;
  subnet.pendingValidatorEmission += split.validator;
}

/** Takes the pending pools for an epoch (`E = pending_server + pending_validator`). */
export function drainPending(subnet: SubnetState): bigint {
  const total = subnet.pendingServerEmission + subnet.pendingValidatorEmission;
  subnet.pendingServerEmission = 0n;
  subnet.pendingValidatorEmission = 0n;
  return total;
}
