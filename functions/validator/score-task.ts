import type { EpochScores, ExpertScore } from "../../core/scores/schema.ts";
import { type EmaRecord, scoreEpoch, updateEma } from "../../core/scoring/index.ts";
import type { ScoredExpert, ValidationItem, ValidationTask } from "./types.ts";

/**
 * Turns one task's collected answers into this epoch's scores: every (expert, item) answer becomes class rows
 * (a missing answer the uniform prior), one copy-resistant Shapley game over all rows, then the EMA.
 */
export function scoreTask(args: {
  task: ValidationTask;
  epoch: number;
  at: number;
  experts: readonly ScoredExpert[];
  registrationBlock: (uid: number) => number;
  items: readonly ValidationItem[];
  answers: readonly (readonly (unknown | null)[])[];
  previous: EpochScores | null;
  emaAlpha: number;
}): EpochScores {
  const { task, experts, items, answers } = args;
  const classes = task.classes;
  // Rows per item come from the truth (speech: one per frame), the same for every expert.
  const truthRows = items.map((item) => task.rows(null, item));
  const rowsTotal = truthRows.reduce((sum, r) => sum + r.labels.length, 0);
  const labels = new Int32Array(rowsTotal);
  let r = 0;
  for (const t of truthRows) for (const label of t.labels) labels[r++] = label;

  const probs = new Float64Array(experts.length * rowsTotal * classes);
  const answered = new Uint8Array(experts.length * rowsTotal);
  experts.forEach((_, e) => {
    let row = 0;
    items.forEach((item, i) => {
      const output = answers[e]?.[i] ?? null;
      const expected = truthRows[i]?.labels.length ?? 0;
      let rows = output === null ? null : safeRows(task, output, item);
      if (rows !== null && rows.probs.length !== expected) rows = null;
      const used = rows ?? truthRows[i];
      for (let k = 0; k < expected; k++) {
        const p = used?.probs[k] ?? [];
        for (let c = 0; c < classes; c++) probs[(e * rowsTotal + row) * classes + c] = p[c] ?? 0;
        answered[e * rowsTotal + row] = rows === null ? 0 : 1;
        row++;
      }
    });
  });

  const scoring = scoreEpoch({
    experts: experts.map((x) => ({
      uid: x.uid,
      hotkey: x.hotkey,
      modelHash: x.modelSha256,
      registrationBlock: args.registrationBlock(x.uid),
    })),
    outputs: { experts: experts.length, items: rowsTotal, classes, probs, answered },
    labels,
    metric: task.metric,
  });

  const previous: EmaRecord[] = (args.previous?.rows ?? []).map((row) => ({
    task: task.id,
    uid: row.uid,
    hotkey: row.hotkey,
    ema: row.ema,
    epochs: 1,
  }));
  const emas = updateEma({
    previous,
    current: scoring.rows.map((row) => ({ task: task.id, uid: row.uid, hotkey: row.hotkey, value: row.shapley })),
    alpha: args.emaAlpha,
  });
  const emaOf = new Map(emas.map((e) => [e.uid, e]));
  const rows: ExpertScore[] = scoring.rows.map((row) => ({
    uid: row.uid,
    hotkey: row.hotkey,
    shapley: row.shapley,
    ema: emaOf.get(row.uid)?.hotkey === row.hotkey ? (emaOf.get(row.uid)?.ema ?? 0) : 0,
    accuracy: row.accuracy,
    brier: row.brier,
    answered: Math.round((row.answered / Math.max(1, row.items)) * items.length),
    items: items.length,
    copyOf: row.copyOf,
  }));
  return { task: task.id, epoch: args.epoch, at: args.at, rows };
}

function safeRows(task: ValidationTask, output: unknown, item: ValidationItem) {
  try {
    return task.rows(output, item);
  } catch {
    return null;
  }
}
