/**
 * The two I32F32 helpers subtensor applies to submitted weights (`epoch/math.rs`), on bigints so every
 * intermediate is exact. I32F32 is a 64-bit raw integer with 32 fraction bits; `mul` floors, `div` truncates,
 * `round` is half away from zero, conversion to u16 saturates.
 */
const FRAC = 32n;
const ONE = 1n << FRAC;
const HALF = 1n << (FRAC - 1n);
const U16_MAX = 65535n;
const I32F32_MAX = (1n << 63n) - 1n;
/** Above this row max the chain computes the ratio first (so the multiply cannot overflow I32F32). */
const UPSCALE_THRESHOLD = 32768n;

const fromInt = (v: bigint): bigint => v << FRAC;
const saturate = (raw: bigint): bigint => (raw > I32F32_MAX ? I32F32_MAX : raw);
const mul = (a: bigint, b: bigint): bigint => saturate((a * b) >> FRAC);
const div = (a: bigint, b: bigint): bigint => (b === 0n ? 0n : saturate((a << FRAC) / b));
/** Values here are never negative, so half-away-from-zero is floor(x + 1/2). */
const round = (raw: bigint): bigint => ((raw + HALF) >> FRAC) << FRAC;
const toU16 = (raw: bigint): number => {
  const v = raw >> FRAC;
  return Number(v > U16_MAX ? U16_MAX : v < 0n ? 0n : v);
};

/** `vec_u16_max_upscale_to_u16`: scale a row so its max becomes 65535 (exact chain rounding). */
export function maxUpscaleU16(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const fixed = values.map((v) => fromInt(BigInt(v)));
  const max = fromInt(BigInt(Math.max(0, ...values)));
  const u16max = fromInt(U16_MAX);
  if (max === 0n) return fixed.map((v) => toU16(mul(v, u16max)));
  if (max > fromInt(UPSCALE_THRESHOLD)) {
    // Ratio first: 10000 with max 60000 gives 10922, not 10923.
    const ratio = div(u16max, max);
    return fixed.map((v) => toU16(round(mul(v, ratio))));
  }
  return fixed.map((v) => toU16(round(div(mul(v, u16max), max))));
}

/** `check_vec_max_limited`: after normalising to sum 1, is the largest entry <= maxLimit/65535? */
export function isMaxLimited(values: readonly number[], maxLimit: number): boolean {
  const limit = div(fromInt(BigInt(maxLimit)), fromInt(U16_MAX));
  const fixed = values.map((v) => fromInt(BigInt(v)));
  const sum = fixed.reduce((s, v) => s + v, 0n);
  const normalised = sum === 0n ? fixed : fixed.map((v) => div(v, sum));
  return normalised.every((v) => v <= limit);
}

export const I32F32_ONE = ONE;
