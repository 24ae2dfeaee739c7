import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addSatBig,
  divCheckedBig,
  divRaw,
  E_RAW_BIG,
  emaAlphaBig,
  expBig,
  expSafeBig,
  floorDiv,
  I64_MAX,
  I64_MIN,
  mulCheckedBig,
  mulFloor,
  mulSatBig,
  ONE,
  ONE_BIG,
  proportionToU16,
  proportionToU16Big,
  safeDivBig,
  u16ProportionBig,
} from "./fixed.ts";

const raw = (x: number): bigint => BigInt(Math.round(x * 2 ** 32));
const val = (r: bigint): number => Number(r) / 2 ** 32;

describe("I32F32 reference semantics", () => {
  it("mul floors toward -inf, also for negative products", () => {
    expect(mulCheckedBig(3n, ONE_BIG >> 1n)).toBe(1n); // 3 raw * 0.5 = 1.5 raw -> 1
    expect(mulCheckedBig(-3n, ONE_BIG >> 1n)).toBe(-2n); // -1.5 raw -> -2
  });

  it("div truncates toward zero", () => {
    expect(divCheckedBig(-1n, 3n << 32n)).toBe(-0n); // -(1/3) raw -> 0
    expect(divCheckedBig(ONE_BIG, 3n << 32n)).toBe(1431655765n); // floor(2^32/3)
    expect(divCheckedBig(-ONE_BIG, 3n << 32n)).toBe(-1431655765n);
  });

  it("saturates add and mul, and safe_div gives 0 on zero or overflow", () => {
    expect(addSatBig(I64_MAX, 1n)).toBe(I64_MAX);
    expect(addSatBig(I64_MIN, -1n)).toBe(I64_MIN);
    expect(mulSatBig(I64_MAX, 2n << 32n)).toBe(I64_MAX);
    expect(mulSatBig(I64_MAX, -2n << 32n)).toBe(I64_MIN);
    expect(safeDivBig(ONE_BIG, 0n)).toBe(0n);
    expect(safeDivBig(I64_MAX, 1n)).toBe(0n); // quotient does not fit: checked_div -> None -> 0
  });

  it("converts proportions to u16 by floor(x * 65535)", () => {
    expect(proportionToU16Big(ONE_BIG)).toBe(65535);
    expect(proportionToU16Big(ONE_BIG >> 1n)).toBe(32767);
    expect(proportionToU16Big(-5n)).toBe(0);
    expect(proportionToU16Big(3n * ONE_BIG)).toBe(65535);
    expect(u16ProportionBig(32767)).toBe(2147450879n); // kappa
    expect(emaAlphaBig(900_000)).toBe(ONE_BIG - 3865470566n); // 1 - floor(0.9 * 2^32)
  });
});

describe("number fast path equals the bigint reference", () => {
  it("mulFloor", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 36), max: 2 ** 36 }), fc.integer({ min: 0, max: 2 ** 33 }), (a, b) => {
        expect(BigInt(mulFloor(a, b))).toBe(mulCheckedBig(BigInt(a), BigInt(b)));
      }),
      { numRuns: 2000 },
    );
    // exact products (integral quotients) take the exact path
    expect(mulFloor(ONE, 12345)).toBe(12345);
    expect(mulFloor(-ONE, 12345)).toBe(-12345);
    expect(mulFloor(ONE / 2, 3)).toBe(1);
  });

  it("divRaw for proportion-sized quotients, floorDiv", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 44 }), fc.double({ min: 0, max: 2, noNaN: true }), (b, r) => {
        const a = Math.floor(b * r);
        expect(BigInt(divRaw(a, b))).toBe(divCheckedBig(BigInt(a), BigInt(b)));
      }),
      { numRuns: 2000 },
    );
    expect(divRaw(ONE, ONE)).toBe(ONE);
    expect(divRaw(1, 3)).toBe(1431655765);
    expect(floorDiv(2 ** 53 - 1, 3)).toBe(Math.floor((2 ** 53 - 1) / 3));
  });

  it("proportionToU16", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 34), max: 2 ** 35 }), (x) => {
        expect(proportionToU16(x)).toBe(proportionToU16Big(BigInt(x)));
      }),
    );
  });
});

describe("exp (substrate-fixed 30-term Taylor series)", () => {
  it("has the special cases of the Rust: exp(0) = 1, exp(1) = the E constant", () => {
    expect(expBig(0n)).toBe(ONE_BIG);
    expect(expBig(ONE_BIG)).toBe(E_RAW_BIG);
    expect(val(E_RAW_BIG)).toBeCloseTo(Math.E, 6);
  });

  it("is close to Math.exp on [-5, 5] and computes negatives as 1/exp(|x|)", () => {
    for (const x of [-5, -2.5, -1, -0.5, -0.1, 0.1, 0.5, 2, 3.3, 5]) {
      const r = expBig(raw(x));
      expect(r).not.toBeNull();
      expect(Math.abs(val(r ?? 0n) / Math.exp(x) - 1)).toBeLessThan(1e-6);
    }
    const pos = expBig(raw(2.75)) ?? 0n;
    expect(expBig(-raw(2.75))).toBe(divCheckedBig(ONE_BIG, pos));
  });

  it("clamps to [-20, 20] in exp_safe (and the series is already short at 20)", () => {
    expect(expSafeBig(raw(100))).toBe(expBig(20n << 32n));
    expect(expSafeBig(raw(-100))).toBe(expBig(-20n << 32n));
    const e20 = val(expSafeBig(20n << 32n));
    expect(e20).toBeLessThan(Math.exp(20)); // the truncated series undershoots
    expect(e20 / Math.exp(20)).toBeGreaterThan(0.99);
  });
});
