import { z } from "zod";

/** Running score of one uid on one task, as stored between epochs (parse stored items with this schema). */
export const EmaRecord = z.object({
  task: z.string().min(1),
  uid: z.number().int().min(0),
  hotkey: z.string().min(1),
  ema: z.number().finite(),
  /** Epochs folded in since the last reset. */
  epochs: z.number().int().min(0),
});
export type EmaRecord = z.infer<typeof EmaRecord>;

export interface EpochValue {
  readonly task: string;
  readonly uid: number;
  readonly hotkey: string;
  /** This epoch's Shapley value. Non-finite values count as 0 (nothing may poison the average). */
  readonly value: number;
}

export interface EmaUpdate {
  readonly previous: readonly EmaRecord[];
  readonly current: readonly EpochValue[];
  /** Weight of the new epoch, in (0, 1]. */
  readonly alpha: number;
  /**
   * What happens to a (task, uid) the epoch did not score: "decay" folds in a 0 (it answered nothing of value),
   * "keep" leaves it untouched. Default "decay".
   */
  readonly missing?: "decay" | "keep";
}

const key = (task: string, uid: number): string => `${task}\u0000${uid}`;

/**
 * ema' = alpha * value + (1 - alpha) * ema. When a uid's hotkey changed (the slot was deregistered and re-registered),
 * the new owner starts from 0: it must not inherit the previous miner's reputation or debt.
 * Output is sorted by task, then uid, so the same inputs always give the same list.
 */
export function updateEma(update: EmaUpdate): EmaRecord[] {
  const alpha = update.alpha;
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`EMA alpha must be in (0, 1], got ${alpha}`);
  const byKey = new Map<string, EmaRecord>();
  for (const record of update.previous) byKey.set(key(record.task, record.uid), record);
  const seen = new Set<string>();
  const out: EmaRecord[] = [];
  for (const value of update.current) {
    const k = key(value.task, value.uid);
    if (seen.has(k)) continue;
    seen.add(k);
    const before = byKey.get(k);
    const fresh = before === undefined || before.hotkey !== value.hotkey;
    const base = fresh ? 0 : before.ema;
    const x = Number.isFinite(value.value) ? value.value : 0;
    out.push({
      task: value.task,
      uid: value.uid,
      hotkey: value.hotkey,
      ema: alpha * x + (1 - alpha) * base,
      epochs: fresh ? 1 : before.epochs + 1,
    });
  }
  for (const [k, record] of byKey) {
    if (seen.has(k)) continue;
    out.push(
      update.missing === "keep" ? record : { ...record, ema: (1 - alpha) * record.ema, epochs: record.epochs + 1 },
    );
  }
  return out.sort((a, b) => (a.task === b.task ? a.uid - b.uid : a.task < b.task ? -1 : 1));
}

/** Resets records whose uid now belongs to another hotkey (per the current metagraph) and drops uids that vanished. */
export function reconcileHotkeys(records: readonly EmaRecord[], hotkeyByUid: ReadonlyMap<number, string>): EmaRecord[] {
  const out: EmaRecord[] = [];
  for (const record of records) {
    const hotkey = hotkeyByUid.get(record.uid);
    if (hotkey === undefined) continue;
    out.push(hotkey === record.hotkey ? record : { ...record, hotkey, ema: 0, epochs: 0 });
  }
  return out;
}
