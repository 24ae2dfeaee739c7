/**
 * The same epoch as epoch.ts in plain float64 (no fixed-point rounding). Benchmark baseline only: its numbers
 * drift from the chain's in the last bits, so nothing on chain-facing paths may use it.
 */
import { buildFrame, storedBonds } from "./epoch.ts";
import { type Csr, CsrBuilder, columnSums, rowSums, withValues } from "./sparse.ts";
import type { EpochInput, EpochOutput } from "./types.ts";

function normalizeF(x: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] ?? 0;
  if (sum === 0) return;
  for (let i = 0; i < x.length; i++) x[i] = (x[i] ?? 0) / sum;
}

function colNormalizeF(m: Csr): Csr {
  const sums = columnSums(m, "float.colSums");
  const out = new Float64Array(m.val.length);
  for (let e = 0; e < out.length; e++) {
    const s = sums[m.col[e] ?? 0] ?? 0;
    out[e] = s !== 0 ? (m.val[e] ?? 0) / s : (m.val[e] ?? 0);
  }
  return withValues(m, out);
}

function emaF(
  fresh: Csr,
  old: Csr,
  alphaOf: (i: number, j: number, w: number, b: number) => number,
  onlyFresh: boolean,
  slot: string,
): Csr {
  const n = fresh.n;
  const out = new CsrBuilder(n, fresh.val.length + old.val.length, slot);
  for (let i = 0; i < n; i++) {
    out.startRow(i);
    let a = fresh.ptr[i] ?? 0;
    const aEnd = fresh.ptr[i + 1] ?? 0;
    let b = old.ptr[i] ?? 0;
    const bEnd = old.ptr[i + 1] ?? 0;
    while (a < aEnd || b < bEnd) {
      const ja = a < aEnd ? (fresh.col[a] ?? 0) : n;
      const jb = b < bEnd ? (old.col[b] ?? 0) : n;
      const j = Math.min(ja, jb);
      const w = ja === j ? (fresh.val[a++] ?? 0) : 0;
      const bond = jb === j ? (old.val[b++] ?? 0) : 0;
      if (onlyFresh && ja !== j) continue;
      const al = alphaOf(i, j, w, bond);
      const v = Math.min(1, al * w + (1 - al) * bond);
      if (v > 0) out.push(j, v);
    }
  }
  return out.finish();
}

function medianF(activeStake: Float64Array, w: Csr, kappa: number): Float64Array {
  const n = w.n;
  const use = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) if ((activeStake[i] ?? 0) > 0) sum += activeStake[i] ?? 0;
  if (sum === 0) return new Float64Array(n);
  for (let i = 0; i < n; i++) use[i] = (activeStake[i] ?? 0) > 0 ? (activeStake[i] ?? 0) / sum : 0;
  const minority = 1 - kappa;
  const cols: { v: number; s: number }[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    const u = use[i] ?? 0;
    if (u <= 0) continue;
    const end = w.ptr[i + 1] ?? 0;
    for (let e = w.ptr[i] ?? 0; e < end; e++) {
      const v = w.val[e] ?? 0;
      if (v > 0) cols[w.col[e] ?? 0]?.push({ v, s: u });
    }
  }
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const c = cols[j] ?? [];
    let cum = 1;
    for (const x of c) cum -= x.s;
    if (cum > minority || c.length === 0) continue;
    c.sort((a, b) => a.v - b.v);
    let result = c[c.length - 1]?.v ?? 0;
    for (const x of c) {
      cum += x.s;
      if (cum > minority) {
        result = x.v;
        break;
      }
    }
    out[j] = result;
  }
  return out;
}

export function runEpochFloat(input: EpochInput): EpochOutput {
  const frame = buildFrame(input);
  const n = frame.n;
  const threshold = input.stakeThreshold ?? 0n;
  const stake = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = input.stake[i] ?? 0n;
    stake[i] = i === input.ownerUid || s >= threshold ? Number(s) : 0;
  }
  normalizeF(stake);
  const newPermit = frame.newPermit(stake);
  const activeStake = new Float64Array(n);
  for (let i = 0; i < n; i++) activeStake[i] = frame.active[i] && frame.prevPermit[i] ? (stake[i] ?? 0) : 0;
  normalizeF(activeStake);

  const w0 = frame.weights;
  const wVal = new Float64Array(w0.col.length);
  for (let i = 0; i < n; i++) {
    const end = w0.ptr[i + 1] ?? 0;
    let sum = 0;
    for (let e = w0.ptr[i] ?? 0; e < end; e++) sum += frame.weightsU16[e] ?? 0;
    if (sum > 0) for (let e = w0.ptr[i] ?? 0; e < end; e++) wVal[e] = (frame.weightsU16[e] ?? 0) / sum;
  }
  const weights = withValues(w0, wVal);
  const consensus = medianF(activeStake, weights, input.kappa / 65535);
  const clippedB = new CsrBuilder(n, wVal.length, "float.clipped");
  for (let i = 0; i < n; i++) {
    clippedB.startRow(i);
    const end = w0.ptr[i + 1] ?? 0;
    for (let e = w0.ptr[i] ?? 0; e < end; e++) {
      const j = w0.col[e] ?? 0;
      const th = consensus[j] ?? 0;
      const v = wVal[e] ?? 0;
      if (th < v) {
        if (th > 0) clippedB.push(j, th);
      } else clippedB.push(j, v);
    }
  }
  const wc = clippedB.finish();
  const trust = rowSums(wc);
  const incentive = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const end = wc.ptr[i + 1] ?? 0;
    for (let e = wc.ptr[i] ?? 0; e < end; e++) {
      const j = wc.col[e] ?? 0;
      incentive[j] = (incentive[j] ?? 0) + (activeStake[i] ?? 0) * (wc.val[e] ?? 0);
    }
  }
  normalizeF(incentive);

  const beta = input.bondsPenalty / 65535;
  const wb = beta === 0 ? weights : beta === 1 ? wc : emaF(weights, wc, () => 1 - beta, true, "float.interpolated");
  const alpha = 1 - input.bondsMovingAverage / 1e6;
  const dividends = new Float64Array(n);
  let stored: Csr;
  if (input.yuma3) {
    const bonds = withValues(
      frame.bonds,
      Float64Array.from(frame.bondsU16, (b) => b / 65535),
    );
    let liquid = input.liquidAlpha;
    if (liquid) liquid = consensus.some((c) => c !== 0);
    const lo = input.alphaLow / 65535;
    const hi = input.alphaHigh / 65535;
    const slope = input.alphaSigmoidSteepness / -100;
    const ema = liquid
      ? emaF(
          wb,
          bonds,
          (_i, j, w, b) => {
            const x = w >= b ? Math.min(1, Math.max(0, w - (consensus[j] ?? 0))) : Math.min(1, Math.max(0, b - w));
            const sig = 1 / (1 + Math.exp(Math.max(-20, Math.min(20, slope * (x - 0.5)))));
            return Math.min(hi, Math.max(lo, lo + sig * (hi - lo)));
          },
          true,
          "float.ema",
        )
      : emaF(wb, bonds, () => alpha, false, "float.ema");
    const norm = colNormalizeF(ema);
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const end = norm.ptr[i + 1] ?? 0;
      for (let e = norm.ptr[i] ?? 0; e < end; e++) acc += (norm.val[e] ?? 0) * (incentive[norm.col[e] ?? 0] ?? 0);
      dividends[i] = acc * (activeStake[i] ?? 0);
    }
    stored = ema;
  } else {
    const bonds = colNormalizeF(withValues(frame.bonds, Float64Array.from(frame.bondsU16)));
    const delta = new Float64Array(wb.val.length);
    for (let i = 0; i < n; i++) {
      const end = wb.ptr[i + 1] ?? 0;
      for (let e = wb.ptr[i] ?? 0; e < end; e++) delta[e] = (wb.val[e] ?? 0) * (activeStake[i] ?? 0);
    }
    const ema = colNormalizeF(emaF(colNormalizeF(withValues(wb, delta)), bonds, () => alpha, false, "float.ema"));
    for (let i = 0; i < n; i++) {
      let acc = 0;
      const end = ema.ptr[i + 1] ?? 0;
      for (let e = ema.ptr[i] ?? 0; e < end; e++) acc += (ema.val[e] ?? 0) * (incentive[ema.col[e] ?? 0] ?? 0);
      dividends[i] = acc;
    }
    const colMax = new Float64Array(n);
    for (let e = 0; e < ema.val.length; e++) {
      const j = ema.col[e] ?? 0;
      colMax[j] = Math.max(colMax[j] ?? 0, ema.val[e] ?? 0);
    }
    stored = withValues(
      ema,
      Float64Array.from(ema.val, (v, e) => {
        const m = colMax[ema.col[e] ?? 0] ?? 0;
        return m !== 0 ? v / m : v;
      }),
    );
  }
  normalizeF(dividends);

  let sum = 0;
  for (let i = 0; i < n; i++) sum += (incentive[i] ?? 0) + (dividends[i] ?? 0);
  const E = Number(input.raoEmission);
  const rao = (x: number): bigint => BigInt(Math.max(0, Math.floor(x * E)));
  const u16 = (x: number): number => Math.max(0, Math.min(65535, Math.floor(x * 65535)));
  let server: Float64Array;
  let validator: Float64Array;
  let combined: Float64Array;
  if (sum !== 0) {
    server = incentive.map((x) => x / sum);
    validator = dividends.map((x) => x / sum);
    combined = Float64Array.from(incentive, (x, i) => (x + (dividends[i] ?? 0)) / sum);
  } else {
    server = incentive;
    validator = activeStake.some((x) => x !== 0) ? activeStake : stake;
    combined = validator;
  }
  return {
    active: frame.active,
    stakeWeightU16: Array.from(stake, u16),
    newValidatorPermits: newPermit,
    consensusU16: Array.from(consensus, u16),
    validatorTrustU16: Array.from(trust, u16),
    incentiveU16: Array.from(incentive, u16),
    dividendsU16: Array.from(dividends, u16),
    serverEmission: Array.from(server, rao),
    validatorEmission: Array.from(validator, rao),
    emission: Array.from(combined, rao),
    bondsU16: storedBonds(input, frame, newPermit, stored, u16),
  };
}
