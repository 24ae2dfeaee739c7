import { divRaw } from "./fixed.ts";
import type { Csr } from "./sparse.ts";

/**
 * Stake-weighted median per column, bit-equal to math.rs `weighted_median_col_sparse` + `weighted_median`
 * (PROTOCOL.md 1.4.1). Rows take part when their active stake is > 0; their stake is normalised again among
 * themselves (as the chain does). `minority = Σuse − κ`; sorting a column's weights ascending, C_j is the weight of the
 * first row whose inclusive cumulative stake is strictly greater than `minority`, or the column maximum when none is.
 * The chain's mid-pivot partition search returns exactly that value (its partition bounds are exact fixed-point sums).
 *
 * Sparse: missing entries are zeros, so a column's zero weights are one block of stake `Σuse − Σ(nonzero rows)`.
 * Only the nonzero entries are sorted, packed as `weight * M + row` keys in a Float64Array (exact below 2^53).
 */
export function weightedMedianColumns(activeStake: Float64Array, weights: Csr, kappaRaw: number): Float64Array {
  const n = weights.n;
  const median = new Float64Array(n);

  // Participating rows and their re-normalised stake.
  const part = new Int32Array(n).fill(-1);
  let count = 0;
  let rawSum = 0;
  for (let i = 0; i < n; i++) {
    const s = activeStake[i] ?? 0;
    if (s > 0) {
      part[i] = count++;
      rawSum += s;
    }
  }
  if (count === 0) return median;
  const use = new Float64Array(count);
  let stakeSum = 0;
  for (let i = 0; i < n; i++) {
    const p = part[i] ?? -1;
    if (p < 0) continue;
    const u = divRaw(activeStake[i] ?? 0, rawSum);
    use[p] = u;
    stakeSum += u;
  }
  const minority = stakeSum - kappaRaw;

  // Column-major copy of the participating rows' nonzero weights.
  const { ptr, col, val } = weights;
  const colCount = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    if ((part[i] ?? -1) < 0) continue;
    const end = ptr[i + 1] ?? 0;
    for (let e = ptr[i] ?? 0; e < end; e++) {
      if ((val[e] ?? 0) <= 0) continue;
      const c = (col[e] ?? 0) + 1;
      colCount[c] = (colCount[c] ?? 0) + 1;
    }
  }
  for (let j = 0; j < n; j++) colCount[j + 1] = (colCount[j + 1] ?? 0) + (colCount[j] ?? 0);
  const fill = colCount.slice(0, n);
  const keys = new Float64Array(colCount[n] ?? 0);
  const M = 2 ** Math.ceil(Math.log2(count + 1));
  for (let i = 0; i < n; i++) {
    const p = part[i] ?? -1;
    if (p < 0) continue;
    const end = ptr[i + 1] ?? 0;
    for (let e = ptr[i] ?? 0; e < end; e++) {
      const w = val[e] ?? 0;
      if (w <= 0) continue;
      const j = col[e] ?? 0;
      const at = fill[j] ?? 0;
      keys[at] = w * M + p;
      fill[j] = at + 1;
    }
  }

  for (let j = 0; j < n; j++) {
    const start = colCount[j] ?? 0;
    const end = colCount[j + 1] ?? 0;
    const nonzero = end - start;
    if (nonzero === 0) continue; // every participant weighs j at 0
    let zeroStake = stakeSum;
    for (let e = start; e < end; e++) zeroStake -= use[(keys[e] ?? 0) % M] ?? 0;
    if (nonzero < count && zeroStake > minority) continue; // the zero block already passes the minority: median 0
    const key =
      stakeSum > minority ? selectWeighted(keys, start, end, M, use, minority - zeroStake) : maxKey(keys, start, end);
    median[j] = (key - (key % M)) / M;
  }
  return median;
}

function maxKey(keys: Float64Array, start: number, end: number): number {
  let m = keys[start] ?? 0;
  for (let e = start + 1; e < end; e++) if ((keys[e] ?? 0) > m) m = keys[e] ?? 0;
  return m;
}

/**
 * The smallest key whose inclusive cumulative stake (in key order) exceeds `target`; one exists because the range's
 * total stake does. Keys are unique, so order by key refines order by weight and the answer's weight is the same.
 * Quickselect with a median-of-three pivot: O(m) expected; after too many rounds the rest is sorted (O(m log m)).
 */
function selectWeighted(
  keys: Float64Array,
  start: number,
  end: number,
  M: number,
  use: Float64Array,
  target: number,
): number {
  let lo = start;
  let hi = end;
  let below = 0; // stake of the keys left of lo
  let rounds = 0;
  while (hi - lo > 16 && rounds < 48) {
    rounds++;
    const a = keys[lo] ?? 0;
    const b = keys[(lo + hi) >> 1] ?? 0;
    const c = keys[hi - 1] ?? 0;
    const pivot = a < b ? (b < c ? b : Math.max(a, c)) : a < c ? a : Math.max(b, c);
    let i = lo;
    let at = -1;
    let left = 0;
    for (let e = lo; e < hi; e++) {
      const k = keys[e] ?? 0;
      if (k < pivot) {
        if (at === i) at = e;
        keys[e] = keys[i] ?? 0;
        keys[i] = k;
        left += use[k % M] ?? 0;
        i++;
      } else if (k === pivot) at = e;
    }
    if (below + left > target) {
      hi = i;
      continue;
    }
    below += left;
    const pivotStake = use[pivot % M] ?? 0;
    if (below + pivotStake > target) return pivot;
    below += pivotStake;
    keys[at] = keys[i] ?? 0;
    keys[i] = pivot;
    lo = i + 1;
  }
  const rest = keys.subarray(lo, hi);
  rest.sort();
  for (let e = 0; e < rest.length; e++) {
    const k = rest[e] ?? 0;
    below += use[k % M] ?? 0;
    if (below > target) return k;
  }
  return rest[rest.length - 1] ?? 0;
}
