import { U16_MAX } from "./process-weights.ts";
import { roundHalfEven } from "./round-half-even.ts";

export interface U16Weights {
  readonly uids: number[];
  readonly values: number[];
}

/**
 * `convert_weights_and_uids_for_emit` of the SDK (PROTOCOL.md section 2): the float weights a validator computed,
 * as the u16 vectors set_weights / commits carry.
 * - Negative (or non-finite) weights and negative uids are rejected (RangeError), like the SDK's ValueError.
 * - Sum 0 (or no entries): nothing to set.
 * - Divide by the max, then Python round(x * 65535) (banker's rounding), and drop entries that become 0.
 */
export function convertWeightsAndUidsForEmit(uids: readonly number[], weights: ArrayLike<number>): U16Weights {
  if (uids.length !== weights.length) {
    throw new RangeError(`Passed weights and uids must have the same length, got ${uids.length} and ${weights.length}`);
  }
  let sum = 0;
  let max = 0;
  for (let k = 0; k < weights.length; k++) {
    const w = weights[k] ?? Number.NaN;
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`weight ${w} cannot exist on chain`);
    sum += w;
    if (w > max) max = w;
  }
  for (const uid of uids) {
    if (!Number.isInteger(uid) || uid < 0 || uid > U16_MAX) throw new RangeError(`uid ${uid} cannot exist on chain`);
  }
  if (sum === 0) return { uids: [], values: [] };
  const out: U16Weights = { uids: [], values: [] };
  for (let k = 0; k < weights.length; k++) {
    const value = roundHalfEven(((weights[k] ?? 0) / max) * U16_MAX);
    if (value !== 0) {
      out.uids.push(uids[k] ?? 0);
      out.values.push(value);
    }
  }
  return out;
}
