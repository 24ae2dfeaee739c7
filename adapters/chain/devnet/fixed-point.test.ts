import { describe, expect, it } from "vitest";
import { isMaxLimited, maxUpscaleU16 } from "./fixed-point.ts";

describe("I32F32 weight helpers", () => {
  it("takes the ratio first above 32768 (10000 of 60000 -> 10922)", () => {
    expect(maxUpscaleU16([10000, 60000])).toEqual([10922, 65535]);
  });

  it("multiplies first at or below 32768 and rounds half away from zero", () => {
    // 1 * 65535 / 2 = 32767.5 -> 32768
    expect(maxUpscaleU16([1, 2])).toEqual([32768, 65535]);
    expect(maxUpscaleU16([100, 300])).toEqual([21845, 65535]);
    expect(maxUpscaleU16([0, 0])).toEqual([0, 0]);
    expect(maxUpscaleU16([])).toEqual([]);
  });

  it("checks the normalised maximum against limit/65535", () => {
    expect(isMaxLimited([1, 1], 32768)).toBe(true);
    expect(isMaxLimited([2, 1], 32768)).toBe(false);
    expect(isMaxLimited([0, 0], 1)).toBe(true);
  });
});
