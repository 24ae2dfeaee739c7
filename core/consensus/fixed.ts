/**
 * Fixed-point arithmetic of substrate-fixed v0.6.0 as subtensor uses it (PROTOCOL.md 1.3).
 *
 * Values are carried as their raw integer ("bits"): an I32F32 x is raw(x) = x * 2^32 in a signed 64-bit integer,
 * I64F64 and I96F32 likewise with 64 / 32 fraction bits.
 *
 * Two flavours:
 * - `*Big` functions: the reference semantics on bigint, one to one with the Rust (mul floors the wide product,
 *   div truncates toward zero, saturating_* clamps, checked_* / safe_div give 0 on overflow or division by zero).
 * - number functions (`mulFloor`, `divRaw`, ...): the hot path. An I32F32 raw value is a JS number; every
 *   operation stays exact because each intermediate is kept below 2^53 (the preconditions are stated per function
 *   and checked against the bigint reference by the unit tests).
 */

export const FRAC_BITS = 32n;
export const ONE_BIG = 1n << 32n;
/** raw(1.0) as a number. */
export const ONE = 4294967296;
/** 2^-32: multiplying by it is exact (a power of two) and faster than dividing by ONE. */
const INV_ONE = 2 ** -32;
const TWO16 = 65536;
const TWO53 = 9007199254740992;

export const I64_MAX = (1n << 63n) - 1n;
export const I64_MIN = -(1n << 63n);
const I128_MAX = (1n << 127n) - 1n;
const I128_MIN = -(1n << 127n);

function clampI64(x: bigint): bigint {
  return x > I64_MAX ? I64_MAX : x < I64_MIN ? I64_MIN : x;
}

/** I32F32 saturating_add / saturating_sub. */
export function addSatBig(a: bigint, b: bigint): bigint {
  return clampI64(a + b);
}
export function subSatBig(a: bigint, b: bigint): bigint {
  return clampI64(a - b);
}

/** I32F32 checked_mul: floor(a*b / 2^32), or null when the result does not fit in 64 bits. */
export function mulCheckedBig(a: bigint, b: bigint): bigint | null {
  const p = (a * b) >> FRAC_BITS; // bigint >> is an arithmetic shift: it floors, as the Rust widening mul does
  return p > I64_MAX || p < I64_MIN ? null : p;
}

/** I32F32 saturating_mul. */
export function mulSatBig(a: bigint, b: bigint): bigint {
  return clampI64((a * b) >> FRAC_BITS);
}

/** I32F32 checked_div: trunc((a << 32) / b) (bigint division truncates toward zero, as Rust's), null on 0 or overflow. */
export function divCheckedBig(a: bigint, b: bigint): bigint | null {
  if (b === 0n) return null;
  const q = (a << FRAC_BITS) / b;
  return q > I64_MAX || q < I64_MIN ? null : q;
}

/** subtensor's safe_div = checked_div().unwrap_or_default(): 0 on division by zero AND on overflow. */
export function safeDivBig(a: bigint, b: bigint): bigint {
  return divCheckedBig(a, b) ?? 0n;
}

/** I32F32 saturating_div (division by zero is not reachable where subtensor uses it; it returns 0 here). */
export function divSatBig(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  return clampI64((a << FRAC_BITS) / b);
}

/** I64F64 safe_div: trunc((a << 64) / b) on 128-bit raws, 0 on division by zero or overflow. */
export function safeDiv64Big(a: bigint, b: bigint): bigint {
  if (b === 0n) return 0n;
  const q = (a << 64n) / b;
  return q > I128_MAX || q < I128_MIN ? 0n : q;
}

/** Conversion to fewer fraction bits (e.g. I64F64 -> I32F32) floors: an arithmetic shift. Saturates. */
export function fixed64ToFixed32Big(raw64: bigint): bigint {
  return clampI64(raw64 >> 32n);
}

/** saturating_to_num::<u16>() of an I32F32: floor, clamped to [0, 65535]. */
export function toU16Big(raw: bigint): number {
  const i = raw >> FRAC_BITS;
  return i < 0n ? 0 : i > 65535n ? 65535 : Number(i);
}

/** fixed_proportion_to_u16: floor of saturating_mul(x, 65535), clamped to u16. */
export function proportionToU16Big(raw: bigint): number {
  return toU16Big(mulSatBig(raw, 65535n << FRAC_BITS));
}

/** I32F32 value of an integer (saturating_from_num). */
export function fromIntBig(x: bigint | number): bigint {
  return clampI64(BigInt(x) << FRAC_BITS);
}

/** u16 hyperparameter as a proportion: u16 / 65535 via I32F32 safe_div. */
export function u16ProportionBig(x: number): bigint {
  return safeDivBig(fromIntBig(x), fromIntBig(65535));
}

/** min(high).max(low), as subtensor's clamp_value. */
export function clampBig(v: bigint, low: bigint, high: bigint): bigint {
  const m = v < high ? v : high;
  return m > low ? m : low;
}

/**
 * `1 - bonds_moving_average / 10^6`: the quotient in I64F64 (trunc), floored to I32F32, subtracted from 1 (saturating).
 * Both compute_ema_bonds_normal_sparse and compute_disabled_liquid_alpha come to this value.
 */
export function emaAlphaBig(bondsMovingAverage: number): bigint {
  const q64 = safeDiv64Big(BigInt(bondsMovingAverage) << 64n, 1_000_000n << 64n);
  return subSatBig(ONE_BIG, fixed64ToFixed32Big(q64));
}

/** substrate-fixed's `consts::E` (U2F126) narrowed to I9F23 (`>> 103`), widened losslessly to I32F32. */
export const E_RAW_BIG: bigint = (0xadf85458a2bb4a9aafdc5620273d3cf1n >> 103n) << 9n;

/**
 * substrate-fixed `exp` for I32F32: e^x by a 30-term Taylor series (i = 2..31, term = term*x/i with the flooring mul
 * and truncating div), 1/exp(|x|) for negative x, exact constant E at x == 1. null where the Rust returns Err.
 */
export function expBig(x: bigint): bigint | null {
  if (x === 0n) return ONE_BIG;
  if (x === ONE_BIG) return E_RAW_BIG;
  const neg = x < 0n;
  const op = neg ? -x : x;
  if (op > I64_MAX) return null;
  let result = op + ONE_BIG;
  if (result > I64_MAX) return null;
  let term = op;
  for (let i = 2n; i < 32n; i++) {
    const m = mulCheckedBig(term, op);
    if (m === null) return null;
    const d = divCheckedBig(m, i << FRAC_BITS);
    if (d === null) return null;
    term = d;
    result += term;
    if (result > I64_MAX) return null;
  }
  if (neg) {
    const inv = divCheckedBig(ONE_BIG, result);
    if (inv === null) return null;
    result = inv;
  }
  return result;
}

const EXP_LIMIT = 20n << FRAC_BITS;

/** subtensor exp_safe: input clamped to [-20, 20]; an Err of exp gives 0 (input <= 0) or I32F32::MAX. */
export function expSafeBig(x: bigint): bigint {
  const safe = x < -EXP_LIMIT ? -EXP_LIMIT : x > EXP_LIMIT ? EXP_LIMIT : x;
  const r = expBig(safe);
  if (r !== null) return r;
  return safe <= 0n ? 0n : I64_MAX;
}

// ---------------------------------------------------------------------------------------------------------------
// number fast path
// ---------------------------------------------------------------------------------------------------------------

/**
 * floor(x / y) for integers 0 <= x < 2^53, 0 < y < 2^53. The double quotient can be one off near integers;
 * the remainder test fixes it (q*y <= x + 1 stays exact for x < 2^53).
 */
export function floorDiv(x: number, y: number): number {
  let q = Math.floor(x / y);
  const r = x - q * y;
  if (r < 0) q -= 1;
  else if (r >= y) q += 1;
  return q;
}

/**
 * I32F32 mul on raws (integers): floor(a*b / 2^32). A product below 2^53 in magnitude is exact, and so is its scaling
 * by 2^-32. Otherwise the double quotient is within |q|·2^-53 of the true one, so its floor is right unless it lies
 * that close to an integer; then the exact path decides.
 */
export function mulFloor(a: number, b: number): number {
  const p = a * b;
  const q = p * INV_ONE;
  const f = Math.floor(q);
  if (p < TWO53 && p > -TWO53) return f; // rounding is monotone and 2^53 is a double: |p| < 2^53 means p is exact
  const d = q - f;
  const tol = (Math.abs(q) + 1) * 4.5e-16;
  if (d > tol && d < 1 - tol) return f;
  return mulFloorExact(a, b);
}

/**
 * Exact floor(a*b / 2^32) for |a| < 2^37, |a*b| < 2^69 (so the result is below 2^37): b is split in 16-bit halves
 * so that each partial product stays below 2^53.
 */
export function mulFloorExact(a: number, b: number): number {
  const bh = Math.floor(b / TWO16);
  const bl = b - bh * TWO16;
  return Math.floor((a * bh + Math.floor((a * bl) / TWO16)) / TWO16);
}

/**
 * I32F32 div on raws for a >= 0, b > 0: floor(a * 2^32 / b) (= trunc for non-negative operands).
 * Exact for a, b < 2^52 when the quotient is below 2^53 (a proportion-sized result). Long division in chunks that
 * keep remainder * 2^k below 2^53; a denominator of 2^52 or more falls back to bigint.
 */
export function divRaw(a: number, b: number): number {
  // Fast path as in mulFloor: a*2^32 is exact in a double, the quotient is correctly rounded.
  const qd = (a * ONE) / b;
  const f = Math.floor(qd);
  const frac = qd - f;
  const tol = (qd + 1) * 4.5e-16;
  if (frac > tol && frac < 1 - tol) return f;
  return divRawExact(a, b);
}

/** Exact floor(a * 2^32 / b) for 0 <= a, 0 < b, both below 2^52, quotient below 2^53. */
export function divRawExact(a: number, b: number): number {
  if (a < 2097152) return floorDiv(a * ONE, b); // a * 2^32 < 2^53
  let q = floorDiv(a, b);
  let r = a - q * b;
  const step = 52 - Math.ceil(Math.log2(b + 1));
  if (step < 1) return Number((BigInt(a) << FRAC_BITS) / BigInt(b));
  let bits = 32;
  while (bits > 0) {
    const k = Math.min(bits, step);
    const scale = 2 ** k;
    const x = r * scale;
    const d = floorDiv(x, b);
    q = q * scale + d;
    r = x - d * b;
    bits -= k;
  }
  return q;
}

/** safe_div for non-negative raws: 0 on division by zero (overflow is impossible for the proportions it serves). */
export function safeDivRaw(a: number, b: number): number {
  return b === 0 ? 0 : divRaw(a, b);
}

/** fixed_proportion_to_u16 on a raw number: floor(raw * 65535 / 2^32) clamped to [0, 65535]. */
export function proportionToU16(raw: number): number {
  if (raw <= 0) return 0;
  if (raw >= ONE * 2) return 65535;
  const v = Math.floor((raw * 65535) / ONE); // raw * 65535 < 2^49: exact
  return Math.min(v, 65535);
}

/** Whether a raw number is a safe integer for the number path. */
export function isExactRaw(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) < TWO53;
}
