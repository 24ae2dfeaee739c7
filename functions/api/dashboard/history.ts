import type { EpochScores } from "../../../core/scores/schema.ts";
import type { DashboardSource } from "./source.ts";

/** At most this many epochs back (each is one read per task). */
export const MAX_HISTORY_EPOCHS = 32;

/**
 * Per expert, its Shapley value and the weight the validator set for it in each recent epoch, from what the
 * validator records every epoch (scores per task and epoch, the submission with its uids and u16 values).
 */
export async function dashboardHistory(source: DashboardSource, epochs: number) {
  const span = Math.max(1, Math.min(MAX_HISTORY_EPOCHS, Math.floor(epochs)));
  const labels = await source.labels();
  const tasks = [...new Set([...labels.values()].map((l) => l.task))].sort();
  const [submissions, perTask] = await Promise.all([
    source.scores.recentSubmissions(source.netuid, span),
    Promise.all(
      tasks.map(async (task) => {
        const latest = await source.scores.latestScores(task);
        if (!latest) return [];
        const earlier = await Promise.all(
          Array.from({ length: Math.min(span, latest.epoch + 1) - 1 }, (_, i) =>
            source.scores.epochScores(task, latest.epoch - 1 - i),
          ),
        );
        return [latest, ...earlier.filter((s): s is EpochScores => s !== null)];
      }),
    ),
  ]);
  const scores = perTask.flat();
  const epochList = [...new Set([...submissions.map((s) => s.epoch), ...scores.map((s) => s.epoch)])]
    .sort((a, b) => a - b)
    .slice(-span);
  const column = new Map(epochList.map((e, i) => [e, i]));
  const experts = new Map<
    number,
    { uid: number; hotkey: string; name: string; task: string; shapley: (number | null)[]; weight: (number | null)[] }
  >();
  const row = (uid: number, hotkey: string, task: string) => {
    let r = experts.get(uid);
    if (!r) {
      r = {
        uid,
        hotkey,
        name: labels.get(hotkey)?.name ?? "",
        task,
        shapley: epochList.map(() => null),
        weight: epochList.map(() => null),
      };
      experts.set(uid, r);
    }
    return r;
  };
  for (const s of scores) {
    const i = column.get(s.epoch);
    if (i === undefined) continue;
    for (const r of s.rows) row(r.uid, r.hotkey, s.task).shapley[i] = r.shapley;
  }
  for (const s of submissions) {
    const i = column.get(s.epoch);
    if (i === undefined) continue;
    const sum = s.values.reduce((a, v) => a + v, 0);
    // A submission leaves out the uids it gives nothing: those got weight 0 that epoch, not "unknown".
    for (const r of experts.values()) r.weight[i] = 0;
    s.uids.forEach((uid, k) => {
      const r = experts.get(uid);
      if (r) r.weight[i] = sum > 0 ? (s.values[k] ?? 0) / sum : 0;
    });
  }
  return { epochs: epochList, experts: [...experts.values()].sort((a, b) => a.uid - b.uid) };
}
