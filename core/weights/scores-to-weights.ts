/** A uid's running score on one task (e.g. an EmaRecord). */
export interface TaskScore {
  readonly task: string;
  readonly uid: number;
  readonly ema: number;
}

/**
 * Turns per-task running scores into one non-negative weight per uid 0..n-1, ready for processWeights.
 * - Negative and non-finite scores count as 0: an expert that hurts the ensemble gets nothing (the chain has no
 *   negative weights), it does not push others up.
 * - Each task's floored scores are normalised to sum 1 and scaled by the task's share (default: equal shares among
 *   tasks that have any positive score), so a task whose game has a larger quality range does not dominate.
 * - uids outside 0..n-1 are ignored (they left the metagraph).
 */
export function combineTaskScores(
  scores: readonly TaskScore[],
  n: number,
  taskShares?: Readonly<Record<string, number>>,
): Float64Array {
  const perTask = new Map<string, Float64Array>();
  for (const s of scores) {
    if (!(s.uid >= 0 && s.uid < n && Number.isInteger(s.uid))) continue;
    const x = Number.isFinite(s.ema) && s.ema > 0 ? s.ema : 0;
    const row = perTask.get(s.task) ?? new Float64Array(n);
    row[s.uid] = (row[s.uid] ?? 0) + x;
    perTask.set(s.task, row);
  }
  const totals = new Map<string, number>();
  for (const [task, row] of perTask) {
    const total = row.reduce((a, b) => a + b, 0);
    if (total > 0) totals.set(task, total);
  }
  const out = new Float64Array(n);
  for (const [task, total] of totals) {
    const given = taskShares?.[task];
    const share =
      taskShares === undefined ? 1 / totals.size : Number.isFinite(given) && (given ?? 0) > 0 ? (given ?? 0) : 0;
    const row = perTask.get(task) ?? new Float64Array(n);
    for (let uid = 0; uid < n; uid++) out[uid] = (out[uid] ?? 0) + (share * (row[uid] ?? 0)) / total;
  }
  return out;
}

/** Floors scores at 0 (non-finite too): the weights a single-task validator passes to processWeights. */
export function floorScores(scores: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: scores.length }, (_, k) => {
    const x = scores[k] ?? 0;
    return Number.isFinite(x) && x > 0 ? x : 0;
  });
}
