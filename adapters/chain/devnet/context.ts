import type { DevnetState, SubnetState } from "./state.ts";
import { MAX_EVENTS, MAX_TEMPO } from "./state.ts";

/** What the rule modules share: the state and the event log. */
export interface DevnetContext {
  readonly state: DevnetState;
}

/** A dispatch result: the error is subtensor's error name. */
export type Dispatch = { readonly ok: true } | { readonly ok: false; readonly error: string };
export const OK: Dispatch = { ok: true };
export const fail = (error: string): Dispatch => ({ ok: false, error });

export function emit(ctx: DevnetContext, name: string, data: Record<string, unknown>): void {
  const events = ctx.state.events;
  events.push({ block: ctx.state.block, name, data });
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
}

export function subnetOf(ctx: DevnetContext, netuid: number): SubnetState | undefined {
  return ctx.state.subnets[String(netuid)];
}

/** `should_run_epoch`: owner trigger due, safety net, or `tempo` blocks since LastEpochBlock. */
export function shouldRunEpoch(subnet: SubnetState, block: number): boolean {
  const tempo = subnet.hyperparams.tempo;
  if (tempo === 0) return false;
  if (subnet.pendingEpochAt > 0 && block >= subnet.pendingEpochAt) return true;
  if (block - subnet.lastMechanismStepBlock > MAX_TEMPO) return true;
  return block - subnet.lastEpochBlock >= tempo;
}

/** `current_epoch_with_lookahead`: SubnetEpochIndex, plus one if an epoch fires in this block. */
export function currentEpochWithLookahead(subnet: SubnetState, block: number): number {
  return subnet.epochIndex + (shouldRunEpoch(subnet, block) ? 1 : 0);
}

/** `get_next_epoch_start_block`: the earlier of the automatic schedule and a pending owner trigger. */
export function nextEpochStartBlock(subnet: SubnetState): number {
  const auto = subnet.lastEpochBlock + subnet.hyperparams.tempo;
  return subnet.pendingEpochAt > 0 ? Math.min(auto, subnet.pendingEpochAt) : auto;
}
