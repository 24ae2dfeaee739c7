import { describe, expect, it } from "vitest";
import { mulberry32 } from "../tasks/prng.ts";
import { selectTopK } from "./select-top-k.ts";

function bySort(scores: readonly number[], k: number): number[] {
  return scores
    .map((s, i) => [Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

describe("selectTopK", () => {
  it("agrees with a full sort on random scores with many ties", () => {
    const rng = mulberry32(17);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(300);
      const k = rng.int(n + 3);
      const scores = Array.from({ length: n }, () => rng.int(20) / 4);
      expect(Array.from(selectTopK(scores, k))).toEqual(bySort(scores, k));
    }
  });

  it("handles k of 0 or above n, and NaN scores last", () => {
    expect(Array.from(selectTopK([1, 2, 3], 0))).toEqual([]);
    expect(Array.from(selectTopK([1, 3, 2], 10))).toEqual([1, 2, 0]);
    expect(Array.from(selectTopK([Number.NaN, -5, Number.NEGATIVE_INFINITY], 2))).toEqual([1, 0]);
    expect(Array.from(selectTopK(new Float64Array([0.5, 0.5, 0.9]), 2))).toEqual([2, 0]);
  });
});
