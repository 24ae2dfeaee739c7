/** The SDK's epsilon "for numerical stability after normalization". */
export const NORMALIZE_EPSILON = 1e-7;

/**
 * `normalize_max_weight(x, limit)` of bittensor `utils/weight_utils.py` (PROTOCOL.md section 2): normalise x to sum 1
 * with no entry above `limit`, by clipping the largest entries at a common cutoff and renormalising.
 * - Sum 0, or n * limit <= 1 (the cap cannot be met): uniform.
 * - Already within the cap: x / sum(x).
 * - Else sort ascending into v, e = v / sum(v), c = cumsum(e); k = #{i : e_i / (c_i + (n-i-1) e_i + eps) < limit};
 *   cutoff = sum(v) * (limit * c[k-1] - eps) / (1 - limit * (n - k)); clip x at cutoff and renormalise.
 * The SDK runs this in float32; this port is float64, so results agree to about 1e-7 relative, far below one u16 step.
 */
export function normalizeMaxWeight(x: ArrayLike<number>, limit = 0.1): Float64Array {
  const n = x.length;
  const weights = Float64Array.from(x);
  let total = 0;
  for (const w of weights) total += w;
  if (n === 0) return weights;
  if (total === 0 || n * limit <= 1) return weights.fill(1 / n);
  const values = Float64Array.from(weights).sort();
  let valuesSum = 0;
  for (const v of values) valuesSum += v;
  const estimation = values.map((v) => v / valuesSum);
  let max = Number.NEGATIVE_INFINITY;
  for (const e of estimation) if (e > max) max = e;
  if (max <= limit) return weights.map((w) => w / total);

  const cumsum = new Float64Array(n);
  let running = 0;
  for (let i = 0; i < n; i++) {
    running += estimation[i] ?? 0;
    cumsum[i] = running;
  }
  let k = 0;
  for (let i = 0; i < n; i++) {
    const e = estimation[i] ?? 0;
    if (e / ((n - i - 1) * e + (cumsum[i] ?? 0) + NORMALIZE_EPSILON) < limit) k++;
  }
  // numpy's cumsum[k - 1] with k = 0 reads the last element; k >= 1 whenever n * limit > 1, kept for parity.
  const at = k > 0 ? k - 1 : n - 1;
  const cutoffScale = (limit * (cumsum[at] ?? 0) - NORMALIZE_EPSILON) / (1 - limit * (n - k));
  const cutoff = cutoffScale * valuesSum;
  let clippedSum = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] ?? 0;
    const clipped = Math.min(w, cutoff);
    weights[i] = clipped;
    clippedSum += clipped;
  }
  return weights.map((w) => w / clippedSum);
}
