import { describe, expect, it } from "vitest";
import { convertWeightsAndUidsForEmit } from "./emit.ts";
import { normalizeMaxWeight } from "./normalize-max-weight.ts";
import { numpyQuantile, processWeights } from "./process-weights.ts";
import { blocksUntilWeightsAllowed } from "./rate-limit.ts";
import { roundHalfEven } from "./round-half-even.ts";
import { combineTaskScores, floorScores } from "./scores-to-weights.ts";

describe("blocksUntilWeightsAllowed (subtensor check_rate_limit)", () => {
  it("counts the blocks left until block − LastUpdate reaches the limit", () => {
    expect(blocksUntilWeightsAllowed(100, 90, 30)).toBe(20);
    expect(blocksUntilWeightsAllowed(119, 90, 30)).toBe(1);
    expect(blocksUntilWeightsAllowed(120, 90, 30)).toBe(0);
    expect(blocksUntilWeightsAllowed(500, 90, 30)).toBe(0);
  });
  it("lets a LastUpdate of 0 (never set) and a zero limit through", () => {
    expect(blocksUntilWeightsAllowed(5, 0, 100)).toBe(0);
    expect(blocksUntilWeightsAllowed(90, 90, 0)).toBe(0);
  });
});

describe("roundHalfEven (Python round)", () => {
  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [32766.5, 32766],
    [32767.5, 32768],
    [2.4999999, 2],
    [2.5000001, 3],
    [-0.5, 0],
    [-1.5, -2],
    [7, 7],
  ])("round(%d) = %d", (x, expected) => {
    // + 0 folds -0 into 0: Python's int result has no sign of zero.
    expect(roundHalfEven(x) + 0).toBe(expected);
  });
});

describe("normalizeMaxWeight", () => {
  it("returns x / sum when no entry exceeds the limit", () => {
    expect(Array.from(normalizeMaxWeight([1, 2, 2], 0.5))).toEqual([0.2, 0.4, 0.4]);
  });

  it("returns uniform when the sum is 0 or n * limit <= 1", () => {
    expect(Array.from(normalizeMaxWeight([0, 0, 0, 0], 0.5))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(normalizeMaxWeight([1, 2, 3], 0.3))).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it("caps one large entry: [1,1,1,7] at 0.4", () => {
    // Sorted e = (.1,.1,.1,.7), c = (.1,.2,.3,1). e_i / (c_i + (n-i-1) e_i + eps) = .25,.25,.25,.7 -> k = 3.
    // cutoff = 10 * (0.4 * 0.3 - 1e-7) / (1 - 0.4 * 1) = 1.99999833..., then renormalise.
    const cutoff = (10 * (0.4 * 0.3 - 1e-7)) / 0.6;
    const y = normalizeMaxWeight([1, 7, 1, 1], 0.4);
    const sum = 3 + cutoff;
    expect(y[0]).toBeCloseTo(1 / sum, 14);
    expect(y[1]).toBeCloseTo(cutoff / sum, 14);
    expect(y[1]).toBeLessThan(0.4);
    // y = (2 - d) / (5 - d) with d = 1e-6 / 0.6, i.e. 0.4 - 2e-7 to first order.
    expect(y[1]).toBeCloseTo(0.4 - 2e-7, 12);
  });

  it("caps two large entries: [1,2,10,10] at 0.3", () => {
    // e = (1,2,10,10)/23; tests: (1/23)/(4/23) = .25, (2/23)/(7/23) = .286, 10/23, 10/23 -> k = 2.
    // cutoff = 23 * (0.3 * 3/23 - 1e-7) / (1 - 0.3 * 2) = (0.9 - 2.3e-6) / 0.4 = 2.24999425.
    const y = normalizeMaxWeight([10, 1, 10, 2], 0.3);
    const cutoff = (0.9 - 2.3e-6) / 0.4;
    const sum = 3 + 2 * cutoff;
    expect(y[0]).toBeCloseTo(cutoff / sum, 12);
    expect(y[1]).toBeCloseTo(1 / sum, 12);
    expect(y[3]).toBeCloseTo(2 / sum, 12);
    expect(y.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });
});

describe("numpyQuantile", () => {
  it("interpolates linearly like numpy", () => {
    expect(numpyQuantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(numpyQuantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(numpyQuantile([1, 2, 3, 4], 0)).toBe(1);
    expect(numpyQuantile([1, 2, 3, 4], 1)).toBe(4);
  });
});

describe("processWeights", () => {
  const uids = [0, 1, 2, 3, 4];

  it("keeps the non-zero weights and normalises them", () => {
    const out = processWeights({
      uids,
      weights: [0, 0.1, 0.2, 0.3, 0.4],
      n: 5,
      minAllowedWeights: 2,
      maxWeightLimit: 1,
    });
    expect(out.uids).toEqual([1, 2, 3, 4]);
    Array.from(out.weights).forEach((w, k) => {
      expect(w).toBeCloseTo([0.1, 0.2, 0.3, 0.4][k] ?? Number.NaN, 14);
    });
  });

  it("drops the lowest quantile but keeps min_allowed survivors", () => {
    // q = 32767/65535 < max_exclude = (4-2)/4; quantile of (.1,.2,.3,.4) = .2 + .1 * 1.49998 % 1 = .249998 -> keep .3, .4.
    const out = processWeights({
      uids,
      weights: [0, 0.1, 0.2, 0.3, 0.4],
      n: 5,
      minAllowedWeights: 2,
      maxWeightLimit: 1,
      excludeQuantile: 32767,
    });
    expect(out.uids).toEqual([3, 4]);
    expect(out.weights[0]).toBeCloseTo(3 / 7, 14);
    // With min_allowed 3 the cap max_exclude = 1/4 keeps the quantile at .175: .2, .3, .4 survive.
    const capped = processWeights({
      uids,
      weights: [0, 0.1, 0.2, 0.3, 0.4],
      n: 5,
      minAllowedWeights: 3,
      maxWeightLimit: 1,
      excludeQuantile: 65535,
    });
    expect(capped.uids).toEqual([2, 3, 4]);
  });

  it("pads every uid with 1e-5 when fewer than min_allowed are non-zero", () => {
    const out = processWeights({ uids, weights: [0, 0, 0.5, 0, 0], n: 5, minAllowedWeights: 3, maxWeightLimit: 1 });
    expect(out.uids).toEqual(uids);
    const sum = 0.5 + 5e-5;
    expect(out.weights[0]).toBeCloseTo(1e-5 / sum, 15);
    expect(out.weights[2]).toBeCloseTo((0.5 + 1e-5) / sum, 15);
  });

  it("returns uniform over all uids when nothing is positive or n < min_allowed", () => {
    const none = processWeights({ uids: [0, 1], weights: [0, -1], n: 4, minAllowedWeights: 1, maxWeightLimit: 1 });
    expect(none.uids).toEqual([0, 1, 2, 3]);
    expect(Array.from(none.weights)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const small = processWeights({ uids: [0, 1], weights: [1, 2], n: 2, minAllowedWeights: 3, maxWeightLimit: 1 });
    expect(Array.from(small.weights)).toEqual([0.5, 0.5]);
  });

  it("applies the max-weight cap", () => {
    const out = processWeights({ uids, weights: [1, 7, 1, 1, 0], n: 5, minAllowedWeights: 1, maxWeightLimit: 0.4 });
    expect(out.uids).toEqual([0, 1, 2, 3]);
    expect(Math.max(...out.weights)).toBeLessThan(0.4);
  });
});

describe("convertWeightsAndUidsForEmit", () => {
  it("max-upscales and rounds half to even: 0.5 * 65535 = 32767.5 -> 32768", () => {
    expect(convertWeightsAndUidsForEmit([3, 7], [0.5, 1])).toEqual({ uids: [3, 7], values: [32768, 65535] });
  });

  it("rounds an exact 2.5 down to 2 where Math.round would give 3", () => {
    const w = 2.5 / 65535; // w * 65535 is exactly 2.5 in binary64
    expect(w * 65535).toBe(2.5);
    expect(convertWeightsAndUidsForEmit([0, 1], [w, 1])).toEqual({ uids: [0, 1], values: [2, 65535] });
  });

  it("drops entries that round to zero (0.5 rounds to 0)", () => {
    const half = 0.5 / 65535;
    expect(convertWeightsAndUidsForEmit([0, 1, 2], [half, 1, 0])).toEqual({ uids: [1], values: [65535] });
  });

  it("sends nothing when the weights sum to 0, and rejects negatives", () => {
    expect(convertWeightsAndUidsForEmit([0, 1], [0, 0])).toEqual({ uids: [], values: [] });
    expect(() => convertWeightsAndUidsForEmit([0, 1], [0.5, -0.1])).toThrow(RangeError);
    expect(() => convertWeightsAndUidsForEmit([-1], [0.5])).toThrow(RangeError);
    expect(() => convertWeightsAndUidsForEmit([0], [Number.NaN])).toThrow(RangeError);
    expect(() => convertWeightsAndUidsForEmit([0, 1], [1])).toThrow(RangeError);
  });

  it("does the whole pipeline from Shapley scores to u16", () => {
    const floored = floorScores([0.08, 0.1, -0.16, 0.004, Number.NaN]);
    const processed = processWeights({
      uids: [0, 1, 2, 3, 4],
      weights: floored,
      n: 5,
      minAllowedWeights: 1,
      maxWeightLimit: 1,
    });
    const emitted = convertWeightsAndUidsForEmit(processed.uids, processed.weights);
    // 0.08 / 0.1 * 65535 = 52428, 0.004 / 0.1 * 65535 = 2621.4 -> 2621.
    expect(emitted).toEqual({ uids: [0, 1, 3], values: [52428, 65535, 2621] });
  });
});

describe("combineTaskScores", () => {
  it("floors negatives and gives each task an equal share by default", () => {
    const out = combineTaskScores(
      [
        { task: "digits", uid: 0, ema: 0.3 },
        { task: "digits", uid: 1, ema: 0.1 },
        { task: "digits", uid: 2, ema: -0.5 },
        { task: "speech", uid: 2, ema: 0.01 },
        { task: "speech", uid: 9, ema: 5 },
      ],
      3,
    );
    // digits: 0.3 and 0.1 of 0.4, half share; speech: uid 9 left the metagraph, so uid 2 holds all of it.
    [0.375, 0.125, 0.5].forEach((w, uid) => {
      expect(out[uid]).toBeCloseTo(w, 15);
    });
  });

  it("honours explicit task shares", () => {
    const out = combineTaskScores(
      [
        { task: "a", uid: 0, ema: 1 },
        { task: "b", uid: 1, ema: 1 },
      ],
      2,
      { a: 3, b: 1 },
    );
    expect(Array.from(out)).toEqual([3, 1]);
  });
});
