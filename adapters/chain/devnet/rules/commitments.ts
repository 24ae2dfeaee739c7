/**
 * Commitments pallet `set_commitment` as subtensor's runtime allows it: only a hotkey registered on the subnet may
 * commit (`CanCommit`), the new commitment replaces the old one, and `Commitment { netuid, who }` is emitted. The
 * devnet stores one `Data::Raw` field (a model digest fits in 32 bytes); the deposit and rate limit are not modelled.
 */
import { u8aToHex } from "@polkadot/util";
import { type DevnetContext, type Dispatch, emit, fail, OK, subnetOf } from "../context.ts";
import { MAX_COMMITMENT_BYTES, uidOf } from "../state.ts";

export function setCommitment(ctx: DevnetContext, who: string, netuid: number, data: Uint8Array): Dispatch {
  const subnet = subnetOf(ctx, netuid);
  if (!subnet || uidOf(subnet, who) === null) return fail("AccountNotAllowedCommit");
  if (data.length > MAX_COMMITMENT_BYTES) return fail("TooManyFieldsInCommitmentInfo");
  subnet.commitments ??= {};
  subnet.commitments[who] = { block: ctx.state.block, dataHex: u8aToHex(data) };
  emit(ctx, "Commitment", { netuid, who });
  return OK;
}

export function commitmentOf(
  ctx: DevnetContext,
  netuid: number,
  who: string,
): { block: number; data: Uint8Array } | null {
  const stored = subnetOf(ctx, netuid)?.commitments?.[who];
  if (!stored) return null;
  return { block: stored.block, data: Uint8Array.from(Buffer.from(stored.dataHex.slice(2), "hex")) };
}
