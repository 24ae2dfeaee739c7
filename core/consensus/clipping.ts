/**
 * Yuma's clipping as a reader sees it: each validator's weight row normalised to sum to 1, each expert's consensus
 * (the stake-weighted kappa-median the chain computed), and which weights were above it (clipped down to it). Trust
 * is Yuma's: the stake-weighted sum of clipped weights over the sum before clipping.
 */
export interface ClippingInput {
  /** Stake of every uid (any unit: only ratios matter). */
  readonly stake: readonly number[];
  /** Weight rows as stored on chain: (uid, u16) pairs, one row per uid. */
  readonly weights: readonly (readonly (readonly [number, number])[])[];
  /** The chain's consensus per uid, u16. */
  readonly consensus: readonly number[];
  /** Rows to show (validators) and columns (experts). */
  readonly rows: readonly number[];
  readonly columns: readonly number[];
}

export interface ClippingView {
  readonly rows: readonly number[];
  readonly columns: readonly number[];
  /** Normalised weight of row i for column j. */
  readonly weights: readonly (readonly number[])[];
  /** Whether that weight was above the column's consensus (Yuma clips it to the consensus). */
  readonly clipped: readonly (readonly boolean[])[];
  /** Consensus per column, in [0,1]. */
  readonly consensus: readonly number[];
  /** Yuma trust per column, in [0,1] (0 where no stake weighs the column). */
  readonly trust: readonly number[];
}

const U16 = 65535;

export function clippingView(input: ClippingInput): ClippingView {
  const weights = input.rows.map((row) => {
    const pairs = input.weights[row] ?? [];
    const sum = pairs.reduce((s, [, w]) => s + w, 0);
    const of = new Map(pairs.map(([uid, w]) => [uid, sum > 0 ? w / sum : 0]));
    return input.columns.map((col) => of.get(col) ?? 0);
  });
  const consensus = input.columns.map((col) => (input.consensus[col] ?? 0) / U16);
  // Both sides are rounded to u16 on chain (the weight once more by normalising): a weight within two u16 steps of
  // the consensus is the consensus, not clipped.
  const clipped = weights.map((row) => row.map((w, j) => w - (consensus[j] ?? 0) > 2 / U16));
  const trust = input.columns.map((_, j) => {
    let before = 0;
    let after = 0;
    input.rows.forEach((row, i) => {
      const s = input.stake[row] ?? 0;
      const w = weights[i]?.[j] ?? 0;
      before += s * w;
      after += s * Math.min(w, consensus[j] ?? 0);
    });
    return before > 0 ? after / before : 0;
  });
  return { rows: input.rows, columns: input.columns, weights, clipped, consensus, trust };
}
