import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { divRaw } from "./fixed.ts";
import { weightedMedianColumns } from "./median.ts";
import type { Csr } from "./sparse.ts";

/**
 * Reference: the chain's mid-pivot partition search (math.rs weighted_median) on a dense column, re-stated in TS.
 * Partition [lo, hi] of the stake integral; pivot = score at the middle index of the current partition.
 */
function chainMedian(stake: number[], score: number[], minority: number, hiInit: number): number {
  let idx = stake.map((_, i) => i);
  let lo = 0;
  let hi = hiInit;
  for (let guard = 0; guard <= stake.length + 1; guard++) {
    if (idx.length === 0) return 0;
    if (idx.length === 1) return score[idx[0] ?? 0] ?? 0;
    const pivot = score[idx[idx.length >> 1] ?? 0] ?? 0;
    const lower: number[] = [];
    const upper: number[] = [];
    let loStake = 0;
    let hiStake = 0;
    for (const i of idx) {
      const s = score[i] ?? 0;
      if (s === pivot) continue;
      if (s < pivot) {
        loStake += stake[i] ?? 0;
        lower.push(i);
      } else {
        hiStake += stake[i] ?? 0;
        upper.push(i);
      }
    }
    if (minority < lo + loStake && lower.length > 0) {
      idx = lower;
      hi = lo + loStake;
    } else if (hi - hiStake <= minority && upper.length > 0) {
      idx = upper;
      lo = hi - hiStake;
    } else return pivot;
  }
  return 0;
}

const case_ = fc
  .record({ rows: fc.integer({ min: 1, max: 40 }), cols: fc.integer({ min: 1, max: 6 }) })
  .chain(({ rows, cols }) =>
    fc.record({
      stake: fc.array(fc.integer({ min: 0, max: 2 ** 28 }), { minLength: rows, maxLength: rows }),
      // few distinct weight values, so ties and zeros are common
      weights: fc.array(
        fc.array(fc.constantFrom(0, 0, 1, 5, 5, 9, 2 ** 31, 2 ** 32), { minLength: cols, maxLength: cols }),
        {
          minLength: rows,
          maxLength: rows,
        },
      ),
      kappa: fc.constantFrom(0, 1, 2 ** 31 - 32768, 2 ** 31, 2 ** 32 - 1, 2 ** 32),
    }),
  );

/** Large columns (quickselect's partition rounds, not only its small-range sort) with heavy ties and zero stakes. */
const largeCase = fc
  .record({ rows: fc.integer({ min: 17, max: 300 }), cols: fc.integer({ min: 1, max: 3 }) })
  .chain(({ rows, cols }) =>
    fc.record({
      stake: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 20 })), {
        minLength: rows,
        maxLength: rows,
      }),
      weights: fc.array(
        fc.array(fc.oneof(fc.constantFrom(0, 3, 3, 8, 2 ** 32), fc.integer({ min: 1, max: 2 ** 32 })), {
          minLength: cols,
          maxLength: cols,
        }),
        { minLength: rows, maxLength: rows },
      ),
      kappa: fc.constantFrom(0, 2 ** 31 - 32768, 2 ** 31, 2 ** 32),
    }),
  );

interface MedianCase {
  stake: number[];
  weights: number[][];
  kappa: number;
}

function agreesWithChain({ stake, weights, kappa }: MedianCase): void {
  const rows = stake.length;
  const cols = weights[0]?.length ?? 0;
  const n = Math.max(rows, cols);
  const ptr = new Int32Array(n + 1);
  const col: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    ptr[i] = col.length;
    (weights[i] ?? []).forEach((w, j) => {
      if (w > 0 || j % 2 === 0) {
        col.push(j);
        val.push(w);
      }
    });
  }
  ptr[n] = col.length;
  const m: Csr = { n, ptr, col: Int32Array.from(col), val: Float64Array.from(val) };
  const active = Float64Array.from({ length: n }, (_, i) => stake[i] ?? 0);
  const got = weightedMedianColumns(active, m, kappa);

  const part = [...active.keys()].filter((i) => (active[i] ?? 0) > 0);
  const raw = part.map((i) => active[i] ?? 0);
  const total = raw.reduce((a, b) => a + b, 0);
  const use = raw.map((s) => divRaw(s, total));
  const stakeSum = use.reduce((a, b) => a + b, 0);
  for (let j = 0; j < n; j++) {
    const score = part.map((i) => weights[i]?.[j] ?? 0);
    const want = part.length === 0 ? 0 : chainMedian(use, score, stakeSum - kappa, stakeSum);
    expect(got[j]).toBe(want);
  }
}

describe("weightedMedianColumns", () => {
  it("equals the chain's partition search, ties, zeros and extreme kappa included", () => {
    fc.assert(fc.property(case_, agreesWithChain), { numRuns: 300 });
  });

  it("equals it on columns of hundreds of rows", () => {
    fc.assert(fc.property(largeCase, agreesWithChain), { numRuns: 150 });
  });

  it("equals it when the minority falls exactly on a cumulative stake (equal stakes, kappa a multiple)", () => {
    const exactCase = fc
      .record({ rows: fc.integer({ min: 17, max: 200 }), k: fc.integer({ min: 0, max: 200 }) })
      .chain(({ rows, k }) =>
        fc.record({
          stake: fc.constant(Array.from({ length: rows }, () => 1000)),
          weights: fc.array(
            fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 32 })), { minLength: 2, maxLength: 2 }),
            { minLength: rows, maxLength: rows },
          ),
          kappa: fc.constant((rows - Math.min(k, rows)) * divRaw(1000, 1000 * rows)),
        }),
      );
    fc.assert(fc.property(exactCase, agreesWithChain), { numRuns: 150 });
  });
});
