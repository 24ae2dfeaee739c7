import type { MediaDecoders } from "./decoders.ts";
import { createDigitsTask } from "./digits.ts";
import { createSpeechTask } from "./speech.ts";
import type { AnyTask, Normalized } from "./task.ts";

export interface TaskRegistry {
  /** Task ids in a stable order. */
  ids(): string[];
  get(id: string): AnyTask | undefined;
}

/** The market's tasks. Decoders are injected because PNG/WAV decoding needs libraries that core must not import. */
export function createTaskRegistry(decoders: MediaDecoders): TaskRegistry {
  const tasks = new Map<string, AnyTask>();
  for (const task of [createDigitsTask(decoders), createSpeechTask(decoders)] as AnyTask[]) tasks.set(task.id, task);
  return {
    ids: () => [...tasks.keys()],
    get: (id) => tasks.get(id),
  };
}

/** API body -> job input: validates against the task's input schema and normalises; never throws. */
export function prepareJobInput(task: AnyTask, body: unknown): Normalized<unknown> {
  const parsed = task.inputSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    return { ok: false, error: `invalid ${task.id} input: ${where}${issue?.message ?? "does not match the schema"}` };
  }
  return task.normalize(parsed.data);
}

/**
 * Combines answers that arrived as untrusted JSON: answers that fail the output schema are dropped together with
 * their gate (the rest is renormalised); with none left the uniform prior is returned.
 */
export function combineAnswers(
  task: AnyTask,
  jobInput: unknown,
  outputs: readonly unknown[],
  gates: readonly number[],
): unknown {
  const prior = task.uniformPrior(jobInput);
  const kept: unknown[] = [];
  const keptGates: number[] = [];
  outputs.forEach((output, i) => {
    const parsed = task.outputSchema.safeParse(output);
    // Same shape as the prior: e.g. a speech answer with the wrong number of frames cannot be averaged in.
    if (parsed.success && sameShape(parsed.data, prior)) {
      kept.push(parsed.data);
      keptGates.push(gates[i] ?? 0);
    }
  });
  if (kept.length === 0) return prior;
  return task.combine(kept, keptGates);
}

function sameShape(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameShape(v, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && sameShape(ra[k], rb[k]));
  }
  return typeof a === typeof b;
}
