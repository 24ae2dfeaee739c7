import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { z } from "zod";
import { base64ToFloat32, float32ToBase64, type GateTrainingData } from "../../core/routing/index.ts";
import { type DigitDataset, type DigitSplit, digitRow } from "../../core/tasks/digits-data.ts";
import type { ScoredExpert, ValidationItem, ValidationTask } from "./types.ts";

/** One expert's per-item losses on one set of items (float32 base64; NaN = no answer). */
const LossColumn = z.object({ uid: z.number().int().min(0), hotkey: z.string(), losses: z.string() });

/**
 * A set of items the gate trains on: an epoch's hidden items (their inputs are re-drawn from the epoch's seed, so
 * only the losses are stored) or the bootstrap items. The fingerprint of the inputs catches a source or seed that
 * changed since: the losses would then belong to other inputs, and the set is dropped.
 */
const ItemSet = z.object({
  epoch: z.number().int().min(0),
  items: z.number().int().min(0),
  fingerprint: z.string(),
  columns: z.array(LossColumn),
});
export type ItemSet = z.infer<typeof ItemSet>;

/** The validator's training state, stored beside the gate (RouterParams.params.training). */
export const RouterTrainingState = z.object({
  /** 2: losses are expected errors (1 was Brier, which is dropped and re-asked). */
  v: z.literal(2),
  window: z.array(ItemSet),
  bootstrap: ItemSet.nullable(),
});
export type RouterTrainingState = z.infer<typeof RouterTrainingState>;

export const EMPTY_TRAINING_STATE: RouterTrainingState = { v: 2, window: [], bootstrap: null };

/** The training state in stored router params; an absent or unreadable one starts afresh (never throws). */
export function parseTrainingState(params: unknown): RouterTrainingState {
  if (typeof params !== "object" || params === null || !("training" in params)) return EMPTY_TRAINING_STATE;
  const parsed = RouterTrainingState.safeParse(params.training);
  return parsed.success ? parsed.data : EMPTY_TRAINING_STATE;
}

/** Gate features of items, row-major; null when an item's features have another length than the first's. */
export function featureMatrix(
  items: readonly ValidationItem[],
  features: (input: unknown) => readonly number[],
): { inputSize: number; inputs: Float32Array } | null {
  const rows = items.map((item) => features(item.input));
  const inputSize = rows[0]?.length ?? 0;
  if (rows.some((r) => r.length !== inputSize)) return null;
  const inputs = new Float32Array(rows.length * inputSize);
  rows.forEach((r, i) => {
    inputs.set(r, i * inputSize);
  });
  return { inputSize, inputs };
}

export function fingerprint(inputs: Float32Array): string {
  return bytesToHex(sha256(new Uint8Array(inputs.buffer, inputs.byteOffset, inputs.byteLength))).slice(0, 32);
}

/**
 * One expert's loss per item: its expected error, 1 - the mean probability it gives the true class over the item's
 * rows (digits: one row; speech: one per frame), in [0, 1], lower is better. 1 - loss is the likelihood the gate's
 * mixture objective needs (core/routing trainGate); Brier, stored before issue 16, cannot be turned into it. A
 * missing answer is NaN, which the gate trainer counts as the item's worst.
 */
export function itemLosses(
  task: ValidationTask,
  items: readonly ValidationItem[],
  answers: readonly (unknown | null)[],
): Float32Array {
  return Float32Array.from(items, (item, i) => {
    const output = answers[i] ?? null;
    if (output === null) return Number.NaN;
    const { probs, labels } = task.rows(output, item);
    let truth = 0;
    labels.forEach((label, r) => {
      const p = probs[r]?.[label] ?? 0;
      truth += Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
    });
    return labels.length > 0 ? 1 - truth / labels.length : Number.NaN;
  });
}

export const columnKey = (uid: number, hotkey: string): string => `${uid}:${hotkey}`;

export function encodeColumn(expert: Pick<ScoredExpert, "uid" | "hotkey">, losses: Float32Array) {
  return { uid: expert.uid, hotkey: expert.hotkey, losses: float32ToBase64(losses) };
}

/** Columns of an item set by uid and hotkey (a recycled uid is someone else); malformed columns are left out. */
export function decodeColumns(set: ItemSet): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const column of set.columns) {
    try {
      const losses = base64ToFloat32(column.losses);
      if (losses.length === set.items) out.set(columnKey(column.uid, column.hotkey), losses);
    } catch {
      // A corrupt column only loses that expert's answers on this set.
    }
  }
  return out;
}

export interface TrainingRows {
  readonly inputs: Float32Array;
  readonly items: number;
  readonly columns: ReadonlyMap<string, Float32Array>;
}

/**
 * Stacks item sets into gate training data over the current experts. An expert without a column in a set was not
 * asked those items (it joined later): it is marked unknown there, not counted as failing them.
 */
export function assembleTrainingData(
  sets: readonly TrainingRows[],
  experts: readonly Pick<ScoredExpert, "uid" | "hotkey">[],
  inputSize: number,
): GateTrainingData {
  const items = sets.reduce((sum, s) => sum + s.items, 0);
  const width = experts.length;
  const inputs = new Float32Array(items * inputSize);
  const losses = new Float32Array(items * width).fill(Number.NaN);
  const known = new Uint8Array(items * width);
  let offset = 0;
  for (const set of sets) {
    inputs.set(set.inputs.subarray(0, set.items * inputSize), offset * inputSize);
    experts.forEach((expert, e) => {
      const column = set.columns.get(columnKey(expert.uid, expert.hotkey));
      if (column === undefined) return;
      for (let i = 0; i < set.items; i++) {
        losses[(offset + i) * width + e] = column[i] ?? Number.NaN;
        known[(offset + i) * width + e] = 1;
      }
    });
    offset += set.items;
  }
  // The mixture objective's likelihood: the probability the expert gave the truth (NaN stays NaN: no answer).
  const likelihoods = Float32Array.from(losses, (l) => 1 - l);
  return { items, inputSize, inputs, expertUids: experts.map((x) => x.uid), losses, known, likelihoods };
}

/** Bootstrap items of the digit task: the first `count` router-training rows (disjoint from the hidden rows). */
export function digitBootstrapItems(data: DigitDataset, split: DigitSplit, count: number): ValidationItem[] {
  return split.routerTrain.slice(0, count).map((row) => ({ input: digitRow(data, row), truth: data.labels[row] ?? 0 }));
}
