import { describe, expect, it } from "vitest";
import { clippingView } from "./clipping.ts";

describe("clippingView", () => {
  it("normalises rows, marks weights above consensus and computes Yuma trust", () => {
    const view = clippingView({
      stake: [3, 1, 0, 0],
      // Validator 0 splits evenly; validator 1 puts everything on expert 2.
      weights: [
        [
          [2, 100],
          [3, 100],
        ],
        [[2, 65535]],
        [],
        [],
      ],
      consensus: [0, 0, 40000, 30000],
      rows: [0, 1],
      columns: [2, 3],
    });
    expect(view.weights).toEqual([
      [0.5, 0.5],
      [1, 0],
    ]);
    expect(view.clipped).toEqual([
      [false, true],
      [true, false],
    ]);
    const c2 = 40000 / 65535;
    const c3 = 30000 / 65535;
    expect(view.trust[0]).toBeCloseTo((3 * 0.5 + 1 * c2) / (3 * 0.5 + 1), 10);
    expect(view.trust[1]).toBeCloseTo((3 * c3) / (3 * 0.5), 10);
  });

  it("does not call a weight clipped when it is the consensus up to u16 rounding", () => {
    // One validator: the consensus is its own weight, rounded to u16 on chain.
    const view = clippingView({
      stake: [1, 0, 0],
      weights: [
        [
          [1, 7445],
          [2, 58090],
        ],
      ],
      consensus: [0, 7444, 58091],
      rows: [0],
      columns: [1, 2],
    });
    expect(view.clipped).toEqual([[false, false]]);
  });

  it("gives zero trust to a column nobody weighs", () => {
    const view = clippingView({ stake: [1], weights: [[]], consensus: [0, 0], rows: [0], columns: [1] });
    expect(view.trust).toEqual([0]);
    expect(view.clipped).toEqual([[false]]);
  });
});
