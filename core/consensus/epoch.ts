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
 *
 * Speed (bench/epoch.ts): every matrix is CSR typed arrays in scratch buffers reused across epochs (scratch.ts), so an
 * epoch allocates almost nothing but its outputs. `runEpoch` keeps the EpochOutput contract; its nested bond rows
 * (~1M small arrays at n = 4096 with 256 validators) are then the largest cost, in allocation and garbage collection.
 * `runEpochCsr` computes the same epoch and returns the bonds as CSR typed arrays instead.
 */
import { yuma2Bonds, yuma3Bonds } from "./bonds.ts";
import { divRaw, emaAlphaBig, floorDiv, mulFloor, ONE, proportionToU16, u16ProportionBig } from "./fixed.ts";
import { LiquidAlpha } from "./liquid-alpha.ts";
import { weightedMedianColumns } from "./median.ts";
import { scratch } from "./scratch.ts";
import { type Csr, CsrBuilder, type CsrShape, csrFromRows, rowSums, withValues } from "./sparse.ts";
import type { EpochInput, EpochOutput } from "./types.ts";

const U64_MAX = (1n << 64n) - 1n;

/**
 * Shared by the exact and the float epoch: masks, permits and the raw sparse inputs (no arithmetic on values).
 * The sparse parts are views into scratch buffers: valid until the next epoch starts.
 */
export interface EpochFrame {
  readonly n: number;
  readonly active: boolean[];
  readonly prevPermit: boolean[];
  readonly newPermit: (stakeNonZero: ArrayLike<number>) => boolean[];
  readonly weights: CsrShape;
  readonly weightsU16: Uint16Array;
  readonly bonds: CsrShape;
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

  // Masks as per-row limits on the column's registration block (see EntryMask):
  // vec_mask_sparse_matrix drops (i, j) when last_update[i] <= block_at_registration[j]; commit-reveal drops it
  // when the row's earliest live commit is older than the registration.
  const registered = Float64Array.from({ length: n }, (_, j) => input.blockAtRegistration[j] ?? 0);
  const commits = input.earliestCommitBlock;
  const weightRows = new Uint8Array(n);
  const lastUpdate = new Float64Array(n);
  const commitLimit = commits === undefined ? null : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    weightRows[i] = prevPermit[i] ? 1 : 0;
    lastUpdate[i] = input.lastUpdate[i] ?? 0;
    if (commitLimit !== null) {
      const c = commits?.[i];
      commitLimit[i] = c === null || c === undefined ? Infinity : c;
    }
  }
  const { csr: weights, u16: weightsU16 } = csrFromRows(
    n,
    input.weights,
    {
      rowKept: weightRows,
      colKey: registered,
      below: lastUpdate,
      atMost: commitLimit,
      dropDiagonal: true,
      diagonalOwner: owner ?? -1,
    },
    "weights",
  );

  // scalar_vec_mask_sparse_matrix: bonds to uids registered at or after last_tempo are dropped.
  const lms = input.lastMechanismStepBlock ?? 0;
  const lastTempo = lms === 0 ? Math.max(0, input.currentBlock - input.tempo) : lms + 1;
  const { csr: bonds, u16: bondsU16 } = csrFromRows(
    n,
    input.bonds,
    {
      rowKept: new Uint8Array(n).fill(1),
      colKey: registered,
      below: new Float64Array(n).fill(lastTempo),
      atMost: null,
      dropDiagonal: false,
      diagonalOwner: -1,
    },
    "bonds",
  );
  return { n, active, prevPermit, newPermit, weights, weightsU16, bonds, bondsU16 };
}

/** Emission in rao from a normalised raw share: I96F32 saturating_mul then saturating_to_num::<u64>. */
function toRao(raw: number, emission: bigint): bigint {
  if (raw <= 0) return 0n;
  const v = (BigInt(raw) * emission) >> 32n;
  return v > U64_MAX ? U64_MAX : v;
}

/** Bonds rows as stored after the epoch (see step 10 above), as the nested rows of the EpochOutput contract. */
export function storedBonds(
  input: EpochInput,
  frame: EpochFrame,
  newPermit: boolean[],
  stored: Csr,
  toU16: (v: number) => number,
): [number, number][][] {
  const out: [number, number][][] = new Array(frame.n);
  const { ptr, col, val } = stored;
  for (let i = 0; i < frame.n; i++) {
    if (newPermit[i]) {
      const start = ptr[i] ?? 0;
      const len = (ptr[i + 1] ?? 0) - start;
      const row: [number, number][] = new Array(len);
      for (let k = 0; k < len; k++) row[k] = [col[start + k] ?? 0, toU16(val[start + k] ?? 0)];
      out[i] = row;
    } else if (frame.prevPermit[i]) {
      out[i] = [];
    } else {
      out[i] = (input.bonds[i] ?? []).map(([j, v]) => [j, v] as [number, number]);
    }
  }
  return out;
}

/** Bonds after the epoch in CSR form: row i is `col[ptr[i]..ptr[i+1])` with u16 values `val[...]`. Fresh arrays. */
export interface BondsCsr {
  readonly ptr: Int32Array;
  readonly col: Int32Array;
  readonly val: Uint16Array;
}

/** EpochOutput with the bonds as CSR typed arrays instead of nested pairs (see runEpochCsr). */
export type EpochOutputCsr = Omit<EpochOutput, "bondsU16"> & { readonly bonds: BondsCsr };

/** storedBonds in CSR form; rows left as stored are copied verbatim (stored order, every entry) as runEpoch does. */
function storedBondsCsr(input: EpochInput, frame: EpochFrame, newPermit: boolean[], stored: Csr): BondsCsr {
  const n = frame.n;
  const ptr = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    ptr[i] = total;
    if (newPermit[i]) total += (stored.ptr[i + 1] ?? 0) - (stored.ptr[i] ?? 0);
    else if (!frame.prevPermit[i]) total += input.bonds[i]?.length ?? 0;
  }
  ptr[n] = total;
  const col = new Int32Array(total);
  const val = new Uint16Array(total);
  for (let i = 0; i < n; i++) {
    let k = ptr[i] ?? 0;
    if (newPermit[i]) {
      const end = stored.ptr[i + 1] ?? 0;
      for (let e = stored.ptr[i] ?? 0; e < end; e++, k++) {
        col[k] = stored.col[e] ?? 0;
        val[k] = proportionToU16(stored.val[e] ?? 0);
      }
    } else if (!frame.prevPermit[i]) {
      for (const [j, v] of input.bonds[i] ?? []) {
        col[k] = j;
        val[k] = v;
        k++;
      }
    }
  }
  return { ptr, col, val };
}

/** Nested rows of a BondsCsr (the EpochOutput.bondsU16 form). */
export function bondsCsrToRows(bonds: BondsCsr): [number, number][][] {
  const n = bonds.ptr.length - 1;
  const out: [number, number][][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const start = bonds.ptr[i] ?? 0;
    const len = (bonds.ptr[i + 1] ?? 0) - start;
    const row: [number, number][] = new Array(len);
    for (let k = 0; k < len; k++) row[k] = [bonds.col[start + k] ?? 0, bonds.val[start + k] ?? 0];
    out[i] = row;
  }
  return out;
}

/** Everything of an epoch but the bonds' output form. `stored` lives in scratch buffers: copy it out before return. */
interface EpochCore {
  readonly frame: EpochFrame;
  readonly out: Omit<EpochOutput, "bondsU16">;
  readonly stored: Csr;
}

function computeEpoch(input: EpochInput): EpochCore {
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
  const wU16 = frame.weightsU16;
  const wVal = scratch.f64("weights.raw", w.col.length);
  for (let i = 0; i < n; i++) {
    const start = w.ptr[i] ?? 0;
    const end = w.ptr[i + 1] ?? 0;
    let sum = 0;
    for (let e = start; e < end; e++) sum += wU16[e] ?? 0;
    if (sum > 0) for (let e = start; e < end; e++) wVal[e] = floorDiv((wU16[e] ?? 0) * ONE, sum);
  }
  const weights = withValues(w, wVal);

  // 6. consensus, clipping, validator trust
  const kappa = Number(u16ProportionBig(input.kappa));
  const consensus = weightedMedianColumns(activeStake, weights, kappa);
  const clipped = new CsrBuilder(n, wVal.length, "clipped");
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
    if (a === 0) continue; // mulFloor(0, x) = 0: rows without active stake add nothing
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
    frame,
    stored: bondsResult.stored,
    out: {
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
    },
  };
}

/** The epoch with the EpochOutput contract (bonds as nested `[uid, u16]` rows). */
export function runEpoch(input: EpochInput): EpochOutput {
  const core = computeEpoch(input);
  return {
    ...core.out,
    bondsU16: storedBonds(input, core.frame, core.out.newValidatorPermits, core.stored, proportionToU16),
  };
}

/**
 * The same epoch with the bonds as CSR typed arrays: identical values, without the ~1M small arrays that the nested
 * form costs at n = 4096 (their allocation and the garbage collection after it are the largest single cost).
 */
export function runEpochCsr(input: EpochInput): EpochOutputCsr {
  const core = computeEpoch(input);
  return { ...core.out, bonds: storedBondsCsr(input, core.frame, core.out.newValidatorPermits, core.stored) };
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
  const out = new CsrBuilder(n, weights.val.length, "interpolated");
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
