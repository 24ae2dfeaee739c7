import { divRaw } from "./fixed.ts";
import { scratch } from "./scratch.ts";
import type { Csr } from "./sparse.ts";

/**
 * Stake-weighted median per column, bit-equal to math.rs `weighted_median_col_sparse` + `weighted_median`
 * (PROTOCOL.md 1.4.1). Rows take part when their active stake is > 0; their stake is normalised again among
 * themselves (as the chain does). `minority = Σuse − κ`; sorting a column's weights ascending, C_j is the weight of the
 * first row whose inclusive cumulative stake is strictly greater than `minority`, or the column maximum when none is.
 * The chain's mid-pivot partition search returns exactly that value (its partition bounds are exact fixed-point sums).
 * That weight is the smallest w with stake(weights <= w) > minority, so the order among equal weights never matters.
 *
 * Sparse: missing entries are zeros, so a column's zero weights are one block of stake `Σuse − Σ(nonzero rows)`.
 * Only the nonzero entries are searched, as a column-major copy of (weight, stake) pairs in two Float64Arrays.
 */
export function weightedMedianColumns(activeStake: Float64Array, weights: Csr, kappaRaw: number): Float64Array {
  const n = weights.n;
  const median = new Float64Array(n);

  // Participating rows and their re-normalised stake.
  let rawSum = 0;
  for (let i = 0; i < n; i++) {
    const s = activeStake[i] ?? 0;
    if (s > 0) rawSum += s;
  }
  if (rawSum === 0) return median;
  const use = scratch.f64("median.use", n);
  let stakeSum = 0;
  for (let i = 0; i < n; i++) {
    const s = activeStake[i] ?? 0;
    if (s <= 0) continue;
    const u = divRaw(s, rawSum);
    use[i] = u;
    stakeSum += u;
  }
  const minority = stakeSum - kappaRaw;

  // Column-major copy of the participating rows' nonzero weights, with each row's stake beside its weight.
  const { ptr, col, val } = weights;
  const colStart = scratch.i32("median.colStart", n + 1);
  const colNonzero = scratch.i32("median.colNonzero", n);
  for (let i = 0; i < n; i++) {
    if (!((activeStake[i] ?? 0) > 0)) continue;
    const end = ptr[i + 1] ?? 0;
    for (let e = ptr[i] ?? 0; e < end; e++) {
      if ((val[e] ?? 0) <= 0) continue;
      const j = col[e] ?? 0;
      colNonzero[j] = (colNonzero[j] ?? 0) + 1;
    }
  }
  for (let j = 0; j < n; j++) colStart[j + 1] = (colStart[j] ?? 0) + (colNonzero[j] ?? 0);
  const total = colStart[n] ?? 0;
  const wts = scratch.f64("median.wts", total);
  const stk = scratch.f64("median.stk", total);
  const fill = colNonzero; // reused as the write cursor per column
  fill.set(colStart.subarray(0, n));
  for (let i = 0; i < n; i++) {
    if (!((activeStake[i] ?? 0) > 0)) continue;
    const u = use[i] ?? 0;
    const end = ptr[i + 1] ?? 0;
    for (let e = ptr[i] ?? 0; e < end; e++) {
      const w = val[e] ?? 0;
      if (w <= 0) continue;
      const j = col[e] ?? 0;
      const at = fill[j] ?? 0;
      wts[at] = w;
      stk[at] = u;
      fill[j] = at + 1;
    }
  }

  let participants = 0;
  for (let i = 0; i < n; i++) if ((activeStake[i] ?? 0) > 0) participants++;
  for (let j = 0; j < n; j++) {
    const start = colStart[j] ?? 0;
    const end = colStart[j + 1] ?? 0;
    const nonzero = end - start;
    if (nonzero === 0) continue; // every participant weighs j at 0
    let zeroStake = stakeSum;
    for (let e = start; e < end; e++) zeroStake -= stk[e] ?? 0;
    if (nonzero < participants && zeroStake > minority) continue; // the zero block already passes the minority: 0
    median[j] =
      stakeSum > minority ? selectWeighted(wts, stk, start, end, minority - zeroStake) : maxOf(wts, start, end);
  }
  return median;
}

function maxOf(xs: Float64Array, start: number, end: number): number {
  let m = xs[start] ?? 0;
  for (let e = start + 1; e < end; e++) if ((xs[e] ?? 0) > m) m = xs[e] ?? 0;
  return m;
}

/**
 * The smallest weight w in [start, end) with stake(weights <= w) > `target`; one exists because the range's total
 * stake does. Quickselect with a median-of-three pivot and a three-way partition (ties are common: many validators
 * give a miner the same normalised weight): O(m) expected; after too many rounds the rest is sorted (O(m log m)).
 * Reorders both arrays in step.
 */
function selectWeighted(wts: Float64Array, stk: Float64Array, start: number, end: number, target: number): number {
  let lo = start;
  let hi = end;
  let below = 0; // stake of the entries left of lo
  let rounds = 0;
  while (hi - lo > 16 && rounds < 48) {
    rounds++;
    const a = wts[lo] ?? 0;
    const b = wts[(lo + hi) >> 1] ?? 0;
    const c = wts[hi - 1] ?? 0;
    const pivot = a < b ? (b < c ? b : Math.max(a, c)) : a < c ? a : Math.max(b, c);
    // [lo, j] <= pivot <= [j+1, hi), both non-empty: the median of three is not a strict maximum of the range
    let i = lo - 1;
    let j = hi;
    for (;;) {
      do i++;
      while ((wts[i] ?? 0) < pivot);
      do j--;
      while ((wts[j] ?? 0) > pivot);
      if (i >= j) break;
      const wi = wts[i] ?? 0;
      wts[i] = wts[j] ?? 0;
      wts[j] = wi;
      const si = stk[i] ?? 0;
      stk[i] = stk[j] ?? 0;
      stk[j] = si;
    }
    let left = 0;
    for (let e = lo; e <= j; e++) left += stk[e] ?? 0;
    if (below + left > target) hi = j + 1;
    else {
      below += left;
      lo = j + 1;
    }
  }
  return scanSorted(wts, stk, lo, hi, below, target);
}

/** The tail of selectWeighted: order [lo, hi) by weight (in place) and walk the cumulative stake. */
function scanSorted(wts: Float64Array, stk: Float64Array, lo: number, hi: number, below: number, target: number) {
  if (hi - lo > 64) sortPairs(wts, stk, lo, hi);
  else {
    for (let e = lo + 1; e < hi; e++) {
      const w = wts[e] ?? 0;
      const s = stk[e] ?? 0;
      let k = e - 1;
      while (k >= lo && (wts[k] ?? 0) > w) {
        wts[k + 1] = wts[k] ?? 0;
        stk[k + 1] = stk[k] ?? 0;
        k--;
      }
      wts[k + 1] = w;
      stk[k + 1] = s;
    }
  }
  let cum = below;
  for (let e = lo; e < hi; e++) {
    cum += stk[e] ?? 0;
    if (cum > target) return wts[e] ?? 0;
  }
  return wts[hi - 1] ?? 0;
}

/** Sorts [lo, hi) by weight, moving the stakes along (only after quickselect gave up: adversarial orders). */
function sortPairs(wts: Float64Array, stk: Float64Array, lo: number, hi: number): void {
  const order = Array.from({ length: hi - lo }, (_, k) => lo + k);
  order.sort((x, y) => (wts[x] ?? 0) - (wts[y] ?? 0));
  const w = Float64Array.from(order, (e) => wts[e] ?? 0);
  const s = Float64Array.from(order, (e) => stk[e] ?? 0);
  wts.set(w, lo);
  stk.set(s, lo);
}
