/**
 * Bit-exact Yuma Consensus epoch: a port of subtensor `pallets/subtensor/src/epoch/run_epoch.rs::epoch_mechanism`
 * (sparse path, main @14bc6f9f) on substrate-fixed v0.6.0 semantics (see fixed.ts). Steps and their sources:
 *
 *  1. active      — `last_update + get_activity_cutoff_blocks < current_block` is inactive.
 *  2. stake       — stake threshold filter (owner exempt), `inplace_normalize_64` in I64F64, `vec_fixed64_to_fixed32`.
 *  3. permits     — previous `ValidatorPermit` (owner forced true) forbids rows; `is_topk_nonzero` gives the new permits.
 *  4. active stake— `inplace_mask_vector` (inactive, forbidden) then `inplace_normalize`.
 *  5. weights     — `get_weights_sparse` (uids < n), `mask_rows_sparse`, `mask_diag_sparse[_except_index]`,
 *                   `vec_mask_sparse_matrix` (last_update <= block_at_registration), commit-reveal mask
 *                   (earliest live commit < block_at_registration), `inplace_row_normalize_sparse`.
 *  6. consensus   — `weighted_median_col_sparse` (median.ts), `col_clip_sparse`, `row_sum_sparse` (validator trust).
 *  7. incentive   — `matmul_sparse(clipped, active_stake)` normalised.
 *  8. bonds       — `interpolate_sparse(W, Wc, bonds_penalty)`, then Yuma 3 (`compute_bonds_sparse`, liquid alpha
 *                   `compute_liquid_alpha_values_sparse` / `alpha_sigmoid` / `mat_ema_alpha_sparse`) or Yuma 2
 *                   (`compute_ema_bonds_normal_sparse`, `matmul_transpose_sparse`, `inplace_col_max_upscale_sparse`),
 *                   both after `scalar_vec_mask_sparse_matrix` with last_tempo (bonds.ts).
 *  9. emission    — `inplace_normalize_using_sum` on incentive + dividends, the zero-sum fallback to (active) stake,
 *                   I96F32 `rao = floor(raw * E / 2^32)`.
 * 10. outputs     — `fixed_proportion_to_u16`; bonds rows replaced for new permits, emptied for old permits only,
 *                   left as stored otherwise (the `terms.bond` rule of epoch_mechanism).
 *
 * Assumptions: weight and bond rows are sorted by uid before use (the chain's liquid-alpha merge walk assumes sorted
 * rows; for sorted input this changes nothing), entries with uid >= n are dropped, rows carry unique uids (the chain
 * rejects duplicates). Commit-reveal is "on" exactly when `earliestCommitBlock` is given. Stake is integer rao below
 * 2^63 and n <= 65535 (u16 uids), which keeps every raw value exact in a double (see fixed.ts).
 */
import { yuma2Bonds, yuma3Bonds } from "./bonds.ts";
import { divRaw, emaAlphaBig, floorDiv, mulFloor, ONE, proportionToU16, u16ProportionBig } from "./fixed.ts";
import { LiquidAlpha } from "./liquid-alpha.ts";
import { weightedMedianColumns } from "./median.ts";
import { type Csr, CsrBuilder, csrFromRows, rowSums, withValues } from "./sparse.ts";
import type { EpochInput, EpochOutput } from "./types.ts";

const U64_MAX = (1n << 64n) - 1n;

/** Shared by the exact and the float epoch: masks, permits and the raw sparse inputs (no arithmetic on values). */
export interface EpochFrame {
  readonly n: number;
  readonly active: boolean[];
  readonly prevPermit: boolean[];
  readonly newPermit: (stakeNonZero: ArrayLike<number>) => boolean[];
  readonly weights: Csr;
  readonly weightsU16: Uint16Array;
  readonly bonds: Csr;
  readonly bondsU16: Uint16Array;
}

export function buildFrame(input: EpochInput): EpochFrame {
  const n = input.n;
  const cutoff = Math.max(1, Math.floor((input.activityCutoffFactorMilli * input.tempo) / 1000));
  const active: boolean[] = new Array(n);
  for (let i = 0; i < n; i++) active[i] = !((input.lastUpdate[i] ?? 0) + cutoff < input.currentBlock);

  const owner = input.ownerUid;
  const prevPermit: boolean[] = new Array(n);
  for (let i = 0; i < n; i++) prevPermit[i] = (input.validatorPermits[i] ?? false) || i === owner;

  const newPermit = (stake: ArrayLike<number>): boolean[] => {
    const k = input.maxAllowedValidators;
    const permit: boolean[] = new Array(n);
    for (let i = 0; i < n; i++) permit[i] = (stake[i] ?? 0) !== 0;
    if (n >= k) {
      const idx = Array.from({ length: n }, (_, i) => i);
      idx.sort((a, b) => (stake[a] ?? 0) - (stake[b] ?? 0)); // stable ascending, as Rust sort_by_key
      for (let r = 0; r < n - k; r++) permit[idx[r] ?? 0] = false;
    }
    if (owner !== null && owner >= 0 && owner < n) permit[owner] = true;
    return permit;
  };

  const reg = input.blockAtRegistration;
  const commits = input.earliestCommitBlock;
  const { csr: weights, u16: weightsU16 } = csrFromRows(
    n,
    input.weights,
    (i) => prevPermit[i] ?? false,
    (i, j) => {
      if (i === j && i !== owner) return false;
      const registered = reg[j] ?? 0;
      if ((input.lastUpdate[i] ?? 0) <= registered) return false;
      if (commits !== undefined) {
        const c = commits[i];
        if (c !== null && c !== undefined && c < registered) return false;
      }
      return true;
    },
  );

  const lms = input.lastMechanismStepBlock ?? 0;
  const lastTempo = lms === 0 ? Math.max(0, input.currentBlock - input.tempo) : lms + 1;
  const { csr: bonds, u16: bondsU16 } = csrFromRows(
    n,
    input.bonds,
    () => true,
    (_i, j) => !(lastTempo <= (reg[j] ?? 0)),
  );
  return { n, active, prevPermit, newPermit, weights, weightsU16, bonds, bondsU16 };
}

/** Emission in rao from a normalised raw share: I96F32 saturating_mul then saturating_to_num::<u64>. */
function toRao(raw: number, emission: bigint): bigint {
  if (raw <= 0) return 0n;
  const v = (BigInt(raw) * emission) >> 32n;
  return v > U64_MAX ? U64_MAX : v;
}

/** Bonds rows as stored after the epoch (see step 10 above). */
export function storedBonds(
  input: EpochInput,
  frame: EpochFrame,
  newPermit: boolean[],
  stored: Csr,
  toU16: (v: number) => number,
): [number, number][][] {
  const out: [number, number][][] = new Array(frame.n);
  for (let i = 0; i < frame.n; i++) {
    if (newPermit[i]) {
      const start = stored.ptr[i] ?? 0;
      const row: [number, number][] = new Array((stored.ptr[i + 1] ?? 0) - start);
      for (let k = 0; k < row.length; k++) row[k] = [stored.col[start + k] ?? 0, toU16(stored.val[start + k] ?? 0)];
      out[i] = row;
    } else if (frame.prevPermit[i]) {
      out[i] = [];
    } else {
      out[i] = (input.bonds[i] ?? []).map(([j, v]) => [j, v] as [number, number]);
    }
  }
  return out;
}

export function runEpoch(input: EpochInput): EpochOutput {
  const frame = buildFrame(input);
  const n = frame.n;
  const owner = input.ownerUid;

  // 2. stake: floor(floor(s·2^64/Σ) / 2^32) = floor(s·2^32/Σ)
  const threshold = input.stakeThreshold ?? 0n;
  const filtered: bigint[] = new Array(n);
  let total = 0n;
  for (let i = 0; i < n; i++) {
    const s = input.stake[i] ?? 0n;
    const keep = i === owner || s >= threshold;
    filtered[i] = keep ? s : 0n;
    total += filtered[i] ?? 0n;
  }
  const stake = new Float64Array(n);
  if (total > 0n) for (let i = 0; i < n; i++) stake[i] = Number(((filtered[i] ?? 0n) << 32n) / total);

  // 3. permits
  const newPermit = frame.newPermit(stake);

  // 4. active stake
  const activeStake = new Float64Array(n);
  for (let i = 0; i < n; i++) activeStake[i] = frame.active[i] && frame.prevPermit[i] ? (stake[i] ?? 0) : 0;
  normalizeRaw(activeStake);

  // 5. weights: u16 rows normalised; (w·2^32)/(Σw·2^32) in I32F32 is floor(w·2^32/Σw)
  const w = frame.weights;
  const wVal = new Float64Array(w.col.length);
  for (let i = 0; i < n; i++) {
    const start = w.ptr[i] ?? 0;
    const end = w.ptr[i + 1] ?? 0;
    let sum = 0;
    for (let e = start; e < end; e++) sum += frame.weightsU16[e] ?? 0;
    if (sum > 0) for (let e = start; e < end; e++) wVal[e] = floorDiv((frame.weightsU16[e] ?? 0) * ONE, sum);
  }
  const weights = withValues(w, wVal);

  // 6. consensus, clipping, validator trust
  const kappa = Number(u16ProportionBig(input.kappa));
  const consensus = weightedMedianColumns(activeStake, weights, kappa);
  const clipped = new CsrBuilder(n, wVal.length);
  for (let i = 0; i < n; i++) {
    clipped.startRow(i);
    const end = w.ptr[i + 1] ?? 0;
    for (let e = w.ptr[i] ?? 0; e < end; e++) {
      const j = w.col[e] ?? 0;
      const v = wVal[e] ?? 0;
      const th = consensus[j] ?? 0;
      if (th < v) {
        if (th > 0) clipped.push(j, th);
      } else clipped.push(j, v);
    }
  }
  const wc = clipped.finish();
  const validatorTrust = rowSums(wc);

  // 7. incentive = normalize(Σ_i A_i·Wc_ij)
  const incentive = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = activeStake[i] ?? 0;
    const end = wc.ptr[i + 1] ?? 0;
    for (let e = wc.ptr[i] ?? 0; e < end; e++) {
      const j = wc.col[e] ?? 0;
      incentive[j] = (incentive[j] ?? 0) + mulFloor(a, wc.val[e] ?? 0);
    }
  }
  normalizeRaw(incentive);

  // 8. bonds and dividends
  const beta = Number(u16ProportionBig(input.bondsPenalty));
  const wb = beta === 0 ? weights : beta === ONE ? wc : interpolate(weights, wc, beta);
  const alpha = Number(emaAlphaBig(input.bondsMovingAverage));
  const bondsResult = input.yuma3
    ? yuma3Bonds(
        frame.bonds,
        frame.bondsU16,
        wb,
        consensus,
        activeStake,
        incentive,
        alpha,
        input.liquidAlpha ? new LiquidAlpha(input.alphaLow, input.alphaHigh, input.alphaSigmoidSteepness) : null,
      )
    : yuma2Bonds(frame.bonds, frame.bondsU16, wb, activeStake, incentive, alpha);
  const dividends = bondsResult.dividends;

  // 9. emission split
  let emissionSum = 0;
  const combined = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = (incentive[i] ?? 0) + (dividends[i] ?? 0);
    combined[i] = c;
    emissionSum += c;
  }
  let server = new Float64Array(n);
  let validator = new Float64Array(n);
  if (emissionSum !== 0) {
    for (let i = 0; i < n; i++) {
      server[i] = divRaw(incentive[i] ?? 0, emissionSum);
      validator[i] = divRaw(dividends[i] ?? 0, emissionSum);
      combined[i] = divRaw(combined[i] ?? 0, emissionSum);
    }
  } else {
    server = incentive;
    let activeSum = 0;
    for (let i = 0; i < n; i++) activeSum += activeStake[i] ?? 0;
    validator = activeSum === 0 ? stake : activeStake;
    combined.set(validator);
  }
  const E = input.raoEmission;

  return {
    active: frame.active,
    stakeWeightU16: Array.from(stake, proportionToU16),
    newValidatorPermits: newPermit,
    consensusU16: Array.from(consensus, proportionToU16),
    validatorTrustU16: Array.from(validatorTrust, proportionToU16),
    incentiveU16: Array.from(incentive, proportionToU16),
    dividendsU16: Array.from(dividends, proportionToU16),
    serverEmission: Array.from(server, (x) => toRao(x, E)),
    validatorEmission: Array.from(validator, (x) => toRao(x, E)),
    emission: Array.from(combined, (x) => toRao(x, E)),
    bondsU16: storedBonds(input, frame, newPermit, bondsResult.stored, proportionToU16),
  };
}

/** inplace_normalize on raws. */
function normalizeRaw(x: Float64Array): void {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] ?? 0;
  if (sum === 0) return;
  for (let i = 0; i < x.length; i++) x[i] = divRaw(x[i] ?? 0, sum);
}

/**
 * interpolate_sparse for 0 < β < 1: W + β(Wc − W) for every column, kept when > 0. Wc's entries are a subset of W's
 * columns with values <= W's, so walking W's row covers every nonzero result.
 */
function interpolate(weights: Csr, clipped: Csr, beta: number): Csr {
  const n = weights.n;
  const out = new CsrBuilder(n, weights.val.length);
  for (let i = 0; i < n; i++) {
    out.startRow(i);
    let c = clipped.ptr[i] ?? 0;
    const cEnd = clipped.ptr[i + 1] ?? 0;
    const end = weights.ptr[i + 1] ?? 0;
    for (let e = weights.ptr[i] ?? 0; e < end; e++) {
      const j = weights.col[e] ?? 0;
      while (c < cEnd && (clipped.col[c] ?? 0) < j) c++;
      const v2 = c < cEnd && clipped.col[c] === j ? (clipped.val[c] ?? 0) : 0;
      const v1 = weights.val[e] ?? 0;
      const v = v1 + mulFloor(beta, v2 - v1);
      if (v > 0) out.push(j, v);
    }
  }
  return out.finish();
}
