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
      consensus: [0, 0, 32768, 32767],
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
    const c2 = 32768 / 65535;
    const c3 = 32767 / 65535;
    expect(view.trust[0]).toBeCloseTo((3 * 0.5 + 1 * c2) / (3 * 0.5 + 1), 10);
    expect(view.trust[1]).toBeCloseTo((3 * c3) / (3 * 0.5), 10);
  });

  it("gives zero trust to a column nobody weighs", () => {
    const view = clippingView({ stake: [1], weights: [[]], consensus: [0, 0], rows: [0], columns: [1] });
    expect(view.trust).toEqual([0]);
    expect(view.clipped).toEqual([[false]]);
  });
});
