import { normalizeMaxWeight } from "./normalize-max-weight.ts";

/** u16 maximum: chain proportions and quantiles are u16 / 65535. */
export const U16_MAX = 65535;

export interface ProcessWeightsInput {
  readonly uids: readonly number[];
  readonly weights: ArrayLike<number>;
  /** Neurons on the subnet (metagraph n). */
  readonly n: number;
  /** The subnet's MinAllowedWeights hyperparameter. */
  readonly minAllowedWeights: number;
  /** MaxWeightsLimit as a fraction (u16 / 65535), as the SDK's subtensor.max_weight_limit returns it. */
  readonly maxWeightLimit: number;
  /** u16 quantile of the lowest non-zero weights to drop (SDK exclude_quantile). Default 0. */
  readonly excludeQuantile?: number;
}

export interface ProcessedWeights {
  readonly uids: number[];
  readonly weights: Float64Array;
}

/**
 * `process_weights` of the bittensor SDK (PROTOCOL.md section 2):
 * - keep weights > 0;
 * - none left, or n < minAllowedWeights: uniform over every uid 0..n-1;
 * - fewer than minAllowedWeights left: every uid 0..n-1 gets 1e-5, the kept weights are added, then normalizeMaxWeight;
 * - else drop those below the exclude quantile (numpy linear quantile, capped so minAllowedWeights survive), then
 *   normalizeMaxWeight.
 * One deliberate difference: in the third case the SDK adds the kept weights at their *positions* in the input,
 * which is the uid only when uids = 0..n-1 (the usual call); this port adds them at their uid.
 */
export function processWeights(input: ProcessWeightsInput): ProcessedWeights {
  const { uids, weights, n, minAllowedWeights, maxWeightLimit } = input;
  if (uids.length !== weights.length) throw new RangeError(`${uids.length} uids but ${weights.length} weights`);
  const quantile = (input.excludeQuantile ?? 0) / U16_MAX;
  const keptUids: number[] = [];
  const kept: number[] = [];
  for (let k = 0; k < uids.length; k++) {
    const w = weights[k] ?? 0;
    if (w > 0) {
      keptUids.push(uids[k] ?? 0);
      kept.push(w);
    }
  }
  const everyUid = Array.from({ length: Math.max(0, n) }, (_, uid) => uid);
  if (kept.length === 0 || n < minAllowedWeights) {
    return { uids: everyUid, weights: new Float64Array(everyUid.length).fill(1 / n) };
  }
  if (kept.length < minAllowedWeights) {
    const floor = new Float64Array(n).fill(1e-5);
    keptUids.forEach((uid, k) => {
      if (uid >= 0 && uid < n) floor[uid] = (floor[uid] ?? 0) + (kept[k] ?? 0);
    });
    return { uids: everyUid, weights: normalizeMaxWeight(floor, maxWeightLimit) };
  }
  const maxExclude = Math.max(0, kept.length - minAllowedWeights) / kept.length;
  const lowest = numpyQuantile(kept, Math.min(quantile, maxExclude));
  const survivors: number[] = [];
  const survivorUids: number[] = [];
  kept.forEach((w, k) => {
    if (lowest <= w) {
      survivors.push(w);
      survivorUids.push(keptUids[k] ?? 0);
    }
  });
  return { uids: survivorUids, weights: normalizeMaxWeight(survivors, maxWeightLimit) };
}

/** numpy.quantile(a, q) with the default "linear" method, including numpy's two-sided lerp. */
export function numpyQuantile(values: readonly number[], q: number): number {
  const sorted = Float64Array.from(values).sort();
  const m = sorted.length;
  if (m === 0) return Number.NaN;
  const virtual = q * (m - 1);
  const below = Math.max(0, Math.min(m - 1, Math.floor(virtual)));
  const above = Math.min(m - 1, below + 1);
  const t = virtual - below;
  const a = sorted[below] ?? 0;
  const b = sorted[above] ?? 0;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
