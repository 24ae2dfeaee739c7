import {
  addSatBig,
  clampBig,
  divSatBig,
  expSafeBig,
  fromIntBig,
  mulSatBig,
  ONE_BIG,
  subSatBig,
  u16ProportionBig,
} from "./fixed.ts";

/**
 * Liquid alpha (run_epoch.rs `alpha_sigmoid`), in bigint so that `exp` is the substrate-fixed series bit for bit:
 *   x = w >= b ? clamp(w - C, 0, 1) : clamp(b - w, 0, 1)
 *   σ = 1 / (1 + exp_safe((steepness / -100) * (x - 0.5)))
 *   α = clamp(α_lo + σ (α_hi - α_lo), α_lo, α_hi)
 * α depends on (w, b, C) only through x, so the sigmoid part is memoised per x (a Map per epoch).
 */
export class LiquidAlpha {
  private readonly low: bigint;
  private readonly high: bigint;
  private readonly slope: bigint;
  private readonly cache = new Map<number, number>();

  constructor(alphaLowU16: number, alphaHighU16: number, steepness: number) {
    this.low = u16ProportionBig(alphaLowU16);
    this.high = u16ProportionBig(alphaHighU16);
    this.slope = divSatBig(fromIntBig(steepness), fromIntBig(-100));
  }

  /** α for one bond entry, all arguments and the result as I32F32 raws. */
  alpha(consensusRaw: number, weightRaw: number, bondRaw: number): number {
    const x =
      weightRaw >= bondRaw
        ? clampNumber(weightRaw - consensusRaw, 0, 4294967296)
        : clampNumber(bondRaw - weightRaw, 0, 4294967296);
    const hit = this.cache.get(x);
    if (hit !== undefined) return hit;
    const a = Number(this.alphaOf(BigInt(x)));
    this.cache.set(x, a);
    return a;
  }

  private alphaOf(x: bigint): bigint {
    const exponent = mulSatBig(this.slope, subSatBig(x, ONE_BIG >> 1n));
    const sigmoid = divSatBig(ONE_BIG, addSatBig(ONE_BIG, expSafeBig(exponent)));
    const a = addSatBig(this.low, mulSatBig(sigmoid, subSatBig(this.high, this.low)));
    return clampBig(a, this.low, this.high);
  }
}

/** min(high).max(low) on raws that are exact numbers (saturating_sub cannot saturate for values in [0, 2^33]). */
function clampNumber(v: number, low: number, high: number): number {
  const m = Math.min(v, high);
  return Math.max(m, low);
}
