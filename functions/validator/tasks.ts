import type { TaskRegistry } from "../../core/tasks/registry.ts";
import type { AnyTask } from "../../core/tasks/task.ts";
import type { ValidationSource } from "../../core/tasks/validation.ts";
import { seedToUint32 } from "./seed.ts";
import type { ValidationItem, ValidationTask } from "./types.ts";

/** How a task's outputs and labels become classification rows for the Shapley game. */
interface RowShape {
  readonly classes: number;
  readonly metric: "brier" | "accuracy";
  toRows(output: unknown, label: unknown): { probs: number[][]; labels: number[] } | null;
}

/**
 * Digits are judged by accuracy: what a client buys is the ensemble's decision, and under Brier an uninformative
 * expert gains credit merely by flattening an overconfident mixture (measured on 1,000 hidden digits with the eight
 * demo experts: noise +-0.04 under Brier, about the size of a specialist's value; -0.009 under accuracy, against
 * 0.12-0.24 for the useful experts).
 */
const digitsRows: RowShape = {
  classes: 10,
  metric: "accuracy",
  toRows(output, label) {
    const probs = (output as { probs?: unknown }).probs;
    if (!Array.isArray(probs) || typeof label !== "number") return null;
    return { probs: [probs.map(Number)], labels: [label] };
  },
};

/** Speech: every 32 ms frame is one 2-class item (silence, speech). */
const speechRows: RowShape = {
  classes: 2,
  // Frame probabilities are the product here (clients threshold them), and every VAD model is ~96% accurate at 0.5:
  // Brier resolves the differences that accuracy rounds away.
  metric: "brier",
  toRows(output, label) {
    const frames = (output as { frameProbs?: unknown }).frameProbs;
    if (!Array.isArray(frames) || !Array.isArray(label) || frames.length !== label.length) return null;
    return { probs: frames.map((p) => [1 - Number(p), Number(p)]), labels: label.map(Number) };
  },
};

const SHAPES: Record<string, RowShape> = { digits: digitsRows, speech: speechRows };

/** Adapts a registry task and its hidden source to what the validator scores. */
export function validationTask(task: AnyTask, source: ValidationSource<unknown, unknown>): ValidationTask {
  const shape = SHAPES[task.id];
  if (shape === undefined) throw new Error(`no validation row shape for task ${task.id}`);
  // One path for both: the items one at a time where the source makes them so, else its sample.
  function* drawOneByOne(seed: string, count: number): Generator<ValidationItem> {
    const items = source.draws?.(count, seedToUint32(seed)) ?? source.sample(count, seedToUint32(seed));
    for (const item of items) yield { input: item.input, truth: item.label };
  }
  return {
    id: task.id,
    classes: shape.classes,
    metric: shape.metric,
    drawItems: (seed, count) => [...drawOneByOne(seed, count)],
    drawItemsOneByOne: drawOneByOne,
    rows(output: unknown | null, item: ValidationItem) {
      const parsed = output === null ? null : task.outputSchema.safeParse(output);
      const answer = parsed?.success ? parsed.data : task.uniformPrior(item.input);
      const rows = shape.toRows(answer, item.truth) ?? shape.toRows(task.uniformPrior(item.input), item.truth);
      if (rows === null) throw new Error(`task ${task.id}: item truth does not fit its row shape`);
      return rows;
    },
  };
}

export function validationTasks(
  registry: TaskRegistry,
  sources: Readonly<Record<string, ValidationSource<unknown, unknown>>>,
): ValidationTask[] {
  return registry.ids().flatMap((id) => {
    const task = registry.get(id);
    const source = sources[id];
    return task && source ? [validationTask(task, source)] : [];
  });
}
