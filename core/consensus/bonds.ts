import { divRaw, floorDiv, mulFloor, ONE } from "./fixed.ts";
import type { LiquidAlpha } from "./liquid-alpha.ts";
import { scratch } from "./scratch.ts";
import { type Csr, CsrBuilder, type CsrShape, columnSums, withValues } from "./sparse.ts";

/** inplace_col_normalize_sparse: each entry divided by its column sum where that sum is not 0. */
export function colNormalize(m: Csr, slot: string): Csr {
  const sums = columnSums(m, "colNormalize.sums");
  const out = scratch.f64(slot, m.val.length);
  const { col, val } = m;
  for (let e = 0; e < val.length; e++) {
    const v = val[e] ?? 0;
    const s = sums[col[e] ?? 0] ?? 0;
    out[e] = s !== 0 ? divRaw(v, s) : v;
  }
  return withValues(m, out);
}

/** inplace_normalize: x / Σx unless Σx == 0. */
export function normalize(x: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] ?? 0;
  if (sum === 0) return;
  for (let i = 0; i < x.length; i++) x[i] = divRaw(x[i] ?? 0, sum);
}

/**
 * mat_ema_sparse: per row, α·new + (1−α)·old over the union of both rows' columns, entries > 0 kept, columns
 * ascending (the chain densifies each row; merging two sorted rows gives the same entries).
 */
export function emaSparse(fresh: Csr, old: Csr, alpha: number): Csr {
  const n = fresh.n;
  const oneMinus = ONE - alpha;
  const out = new CsrBuilder(n, fresh.val.length + old.val.length, "ema");
  for (let i = 0; i < n; i++) {
    out.startRow(i);
    let a = fresh.ptr[i] ?? 0;
    const aEnd = fresh.ptr[i + 1] ?? 0;
    let b = old.ptr[i] ?? 0;
    const bEnd = old.ptr[i + 1] ?? 0;
    while (a < aEnd || b < bEnd) {
      const ja = a < aEnd ? (fresh.col[a] ?? 0) : n;
      const jb = b < bEnd ? (old.col[b] ?? 0) : n;
      let v: number;
      let j: number;
      if (ja === jb) {
        v = mulFloor(alpha, fresh.val[a++] ?? 0) + mulFloor(oneMinus, old.val[b++] ?? 0);
        j = ja;
      } else if (ja < jb) {
        v = mulFloor(alpha, fresh.val[a++] ?? 0);
        j = ja;
      } else {
        v = mulFloor(oneMinus, old.val[b++] ?? 0);
        j = jb;
      }
      if (v > 0) out.push(j, v);
    }
  }
  return out.finish();
}

/**
 * mat_ema_alpha_sparse with liquid alphas (compute_liquid_alpha_values_sparse): only entries present in `fresh`
 * survive; B'_ij = min(1, (1−α_ij)·b_ij + max(0, α_ij·w_ij)), kept when > 0.
 */
function emaLiquid(fresh: Csr, old: Csr, consensus: Float64Array, liquid: LiquidAlpha): Csr {
  const n = fresh.n;
  const out = new CsrBuilder(n, fresh.val.length, "ema");
  for (let i = 0; i < n; i++) {
    out.startRow(i);
    let b = old.ptr[i] ?? 0;
    const bEnd = old.ptr[i + 1] ?? 0;
    const aEnd = fresh.ptr[i + 1] ?? 0;
    for (let a = fresh.ptr[i] ?? 0; a < aEnd; a++) {
      const j = fresh.col[a] ?? 0;
      while (b < bEnd && (old.col[b] ?? 0) < j) b++;
      const bond = b < bEnd && old.col[b] === j ? (old.val[b] ?? 0) : 0;
      const w = fresh.val[a] ?? 0;
      const alpha = liquid.alpha(consensus[j] ?? 0, w, bond);
      const decayed = bond === 0 ? 0 : mulFloor(ONE - alpha, bond);
      const inc = Math.max(0, mulFloor(alpha, w));
      const v = Math.min(ONE, decayed + inc);
      if (v > 0) out.push(j, v);
    }
  }
  return out.finish();
}

export interface BondsResult {
  /** EMA bonds as the chain converts them to u16 for storage (Yuma 2: column max-upscaled). */
  readonly stored: Csr;
  /** Normalised dividends (raw I32F32). */
  readonly dividends: Float64Array;
}

/**
 * Yuma 2 (Yuma3On = false), the `else` branch of epoch_mechanism's bonds section: bonds u16 as integers,
 * column-normalised; ΔB = colnorm(Wb ∘ A); B' = colnorm(ema(ΔB, B, α)); D = normalize(B'·I); stored as
 * inplace_col_max_upscale_sparse(B'). `bondsU16` holds the masked stored bonds with the CSR's layout.
 */
export function yuma2Bonds(
  bondsShape: CsrShape,
  bondsU16: Uint16Array,
  weightsForBonds: Csr,
  activeStake: Float64Array,
  incentive: Float64Array,
  alpha: number,
): BondsResult {
  const n = bondsShape.n;
  // u16_to_fixed then column-normalise: (b·2^32)/(Σb·2^32) in I32F32 is floor(b·2^32/Σb).
  const sumsU16 = scratch.f64("yuma2.sumsU16", n);
  for (let e = 0; e < bondsU16.length; e++) {
    const j = bondsShape.col[e] ?? 0;
    sumsU16[j] = (sumsU16[j] ?? 0) + (bondsU16[e] ?? 0);
  }
  const bVal = scratch.f64("bonds.raw", bondsU16.length);
  for (let e = 0; e < bondsU16.length; e++) {
    const s = sumsU16[bondsShape.col[e] ?? 0] ?? 0;
    bVal[e] = s > 0 ? floorDiv((bondsU16[e] ?? 0) * ONE, s) : 0;
  }
  const bonds = withValues(bondsShape, bVal);

  // row_hadamard_sparse(Wb, A)
  const wb = weightsForBonds;
  const delta = scratch.f64("yuma2.delta", wb.val.length);
  for (let i = 0; i < n; i++) {
    const s = activeStake[i] ?? 0;
    const end = wb.ptr[i + 1] ?? 0;
    for (let e = wb.ptr[i] ?? 0; e < end; e++) delta[e] = mulFloor(wb.val[e] ?? 0, s);
  }
  const deltaNorm = colNormalize(withValues(wb, delta), "yuma2.deltaNorm");
  const ema = colNormalize(emaSparse(deltaNorm, bonds, alpha), "yuma2.emaNorm");

  // matmul_transpose_sparse(ema, I)
  const dividends = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    const end = ema.ptr[i + 1] ?? 0;
    for (let e = ema.ptr[i] ?? 0; e < end; e++) acc += mulFloor(incentive[ema.col[e] ?? 0] ?? 0, ema.val[e] ?? 0);
    dividends[i] = acc;
  }
  normalize(dividends);

  // inplace_col_max_upscale_sparse
  const colMax = scratch.f64("yuma2.colMax", n);
  for (let e = 0; e < ema.val.length; e++) {
    const j = ema.col[e] ?? 0;
    const v = ema.val[e] ?? 0;
    if ((colMax[j] ?? 0) < v) colMax[j] = v;
  }
  const up = scratch.f64("yuma2.up", ema.val.length);
  for (let e = 0; e < ema.val.length; e++) {
    const m = colMax[ema.col[e] ?? 0] ?? 0;
    const v = ema.val[e] ?? 0;
    up[e] = m !== 0 ? divRaw(v, m) : v;
  }
  return { stored: withValues(ema, up), dividends };
}

/**
 * Yuma 3 (Yuma3On = true): bonds are u16/65535 proportions (get_bonds_sparse_fixed_proportion); compute_bonds_sparse
 * (liquid alpha when on and some consensus is nonzero, else one α); Bn = colnorm(B'); D = normalize(A ∘ rowsum(Bn ∘ I)).
 * Stored: B' itself.
 */
export function yuma3Bonds(
  bondsShape: CsrShape,
  bondsU16: Uint16Array,
  weightsForBonds: Csr,
  consensus: Float64Array,
  activeStake: Float64Array,
  incentive: Float64Array,
  alpha: number,
  liquid: LiquidAlpha | null,
): BondsResult {
  const n = bondsShape.n;
  const bVal = scratch.f64("bonds.raw", bondsU16.length);
  const table = u16ProportionTable();
  for (let e = 0; e < bondsU16.length; e++) bVal[e] = table[bondsU16[e] ?? 0] ?? 0;
  const bonds = withValues(bondsShape, bVal);

  let useLiquid = false;
  if (liquid !== null) for (let j = 0; j < n && !useLiquid; j++) useLiquid = (consensus[j] ?? 0) !== 0;
  const ema =
    useLiquid && liquid !== null
      ? emaLiquid(weightsForBonds, bonds, consensus, liquid)
      : emaSparse(weightsForBonds, bonds, alpha);

  const norm = colNormalize(ema, "yuma3.norm");
  const dividends = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = 0;
    const end = norm.ptr[i + 1] ?? 0;
    for (let e = norm.ptr[i] ?? 0; e < end; e++) acc += mulFloor(norm.val[e] ?? 0, incentive[norm.col[e] ?? 0] ?? 0);
    dividends[i] = mulFloor(acc, activeStake[i] ?? 0);
  }
  normalize(dividends);
  return { stored: ema, dividends };
}

let proportionTable: Float64Array | null = null;

/** floor(u·2^32 / 65535) for every u16 u (get_bonds_sparse_fixed_proportion), computed once: a lookup per bond. */
function u16ProportionTable(): Float64Array {
  if (proportionTable === null) {
    proportionTable = new Float64Array(65536);
    for (let u = 0; u < 65536; u++) proportionTable[u] = floorDiv(u * ONE, 65535);
  }
  return proportionTable;
}
