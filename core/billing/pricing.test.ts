import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canTransition, isOpenHold } from "./hold-state.ts";
import { captureAmount, holdAmount, splitCost } from "./pricing.ts";

describe("pricing", () => {
  it("holds price x experts and captures only the answered ones, never above the hold", () => {
    expect(holdAmount(1000, 3)).toBe(3000);
    expect(captureAmount(1000, 2, 3000)).toBe(2000);
    expect(captureAmount(1000, 0, 3000)).toBe(0);
    expect(captureAmount(1000, 5, 3000)).toBe(3000);
  });

  it("refuses negative, fractional and overflowing amounts", () => {
    expect(() => holdAmount(-1, 2)).toThrow(RangeError);
    expect(() => holdAmount(1.5, 2)).toThrow(RangeError);
    expect(() => holdAmount(Number.MAX_SAFE_INTEGER, 2)).toThrow(RangeError);
  });

  it("splits a cost so that the parts add up exactly and nobody gets a negative share", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.record({ uid: fc.nat(255), weight: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 8 }),
        (cost, bps, experts) => {
          const split = splitCost(cost, bps, experts);
          const sum = split.platform + split.experts.reduce((s, e) => s + e.amount, 0);
          expect(sum).toBe(cost);
          expect(split.platform).toBeGreaterThanOrEqual(Math.floor((cost * bps) / 10_000));
          for (const e of split.experts) expect(e.amount).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});

describe("hold state machine", () => {
  it("only moves forward and terminal states are final", () => {
    expect(canTransition("pending", "held")).toBe(true);
    expect(canTransition("held", "capturing")).toBe(true);
    expect(canTransition("captured", "released")).toBe(false);
    expect(canTransition("released", "captured")).toBe(false);
    expect(canTransition("cancelled", "held")).toBe(false);
    expect(canTransition("capturing", "released")).toBe(false);
    expect(isOpenHold("capturing")).toBe(true);
    expect(isOpenHold("captured")).toBe(false);
  });
});
