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

  it("splits a cost so that platform + shares = cost exactly and the shares follow the weights within 1", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.record({ uid: fc.nat(255), weight: fc.double({ min: 0, max: 1, noNaN: true }) }), {
          minLength: 1,
          maxLength: 8,
        }),
        (cost, bps, experts) => {
          const split = splitCost(cost, bps, experts);
          const shares = split.experts.reduce((s, e) => s + e.amount, 0);
          expect(shares + split.platform).toBe(cost);
          // The pool is what the cut leaves, rounded down: the platform's part of the rounding is its own.
          const pool = Number((BigInt(cost) * BigInt(10_000 - bps)) / 10_000n);
          expect(shares).toBe(pool);
          const scaled = experts.map((e) => Math.round(e.weight * 1e9));
          const total = scaled.reduce((s, w) => s + w, 0);
          split.experts.forEach((e, i) => {
            expect(Number.isSafeInteger(e.amount) && e.amount >= 0).toBe(true);
            const exact = total > 0 ? (pool * (scaled[i] ?? 0)) / total : pool / experts.length;
            expect(Math.abs(e.amount - exact)).toBeLessThanOrEqual(1 + exact * 1e-12);
          });
        },
      ),
    );
  });

  it("gives the rounding remainder to the largest remainders, lower uid first, and splits equally on zero weights", () => {
    expect(
      splitCost(1000, 1000, [
        { uid: 0, weight: 1 },
        { uid: 1, weight: 1 },
        { uid: 2, weight: 1 },
      ]),
    ).toEqual({
      platform: 100,
      experts: [
        { uid: 0, amount: 300 },
        { uid: 1, amount: 300 },
        { uid: 2, amount: 300 },
      ],
    });
    expect(
      splitCost(100, 0, [
        { uid: 5, weight: 0 },
        { uid: 2, weight: 0 },
        { uid: 9, weight: 0 },
      ]).experts,
    ).toEqual([
      { uid: 5, amount: 33 },
      { uid: 2, amount: 34 },
      { uid: 9, amount: 33 },
    ]);
    // 999 after a 10% cut of 1110; weights 2:1 -> 666 / 333, nothing left over.
    expect(
      splitCost(1110, 1000, [
        { uid: 0, weight: 0.5 },
        { uid: 1, weight: 0.25 },
      ]),
    ).toEqual({
      platform: 111,
      experts: [
        { uid: 0, amount: 666 },
        { uid: 1, amount: 333 },
      ],
    });
    // A zero-weight expert next to weighted ones gets nothing; a cut that is not a whole micro-credit rounds up.
    expect(
      splitCost(7, 1500, [
        { uid: 0, weight: 0 },
        { uid: 1, weight: 0.3 },
      ]),
    ).toEqual({
      platform: 2,
      experts: [
        { uid: 0, amount: 0 },
        { uid: 1, amount: 5 },
      ],
    });
    expect(splitCost(50, 1000, [])).toEqual({ platform: 50, experts: [] });
    expect(() => splitCost(-1, 0, [])).toThrow(RangeError);
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
