/**
 * Python 3's round(x) for floats: to the nearest integer, ties to the even one (banker's rounding).
 * The SDK uses it to turn weights into u16, so 32767.5 -> 32768 and 2.5 -> 2, where Math.round gives 3.
 * x - floor(x) is exact for |x| < 2^52, so a tie is detected exactly.
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
