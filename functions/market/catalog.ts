import { z } from "zod";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import type { CatalogTask, TaskCatalog, Validation } from "../api/deps.ts";

/**
 * The task registry as the API sees it: JSON Schemas for the docs, validation with zod paths, combination. `prices`
 * (MARKET_TASK_PRICES, a stage's `prices`) overrides a task's price per answer; a price for a task the registry does
 * not have is a typo that would otherwise leave the default price in force, so it stops the boot.
 */
export function taskCatalog(registry: TaskRegistry, prices: Readonly<Record<string, number>> = {}): TaskCatalog {
  const unknown = Object.keys(prices).filter((id) => !registry.get(id));
  if (unknown.length > 0) throw new Error(`MARKET_TASK_PRICES names unknown tasks: ${unknown.join(", ")}`);
  const entries = registry.ids().flatMap((id): CatalogTask[] => {
    const task = registry.get(id);
    if (!task) return [];
    return [
      {
        id,
        description: task.description,
        inputJsonSchema: z.toJSONSchema(task.inputSchema, { unrepresentable: "any" }) as Record<string, unknown>,
        outputJsonSchema: z.toJSONSchema(task.outputSchema, { unrepresentable: "any" }) as Record<string, unknown>,
        pricePerAnswer: prices[id] ?? task.pricePerAnswer,
      },
    ];
  });
  const byId = new Map(entries.map((e) => [e.id, e]));

  const validation = <T>(result: { success: true; data: T } | { success: false; error: z.ZodError }): Validation<T> =>
    result.success
      ? { ok: true, value: result.data }
      : {
          ok: false,
          issues: result.error.issues.map((i) => ({
            path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
            message: i.message,
          })),
        };

  return {
    list: () => entries,
    get: (id) => byId.get(id),
    async prepare(taskId, input) {
      const task = registry.get(taskId);
      if (!task) return { ok: false, issues: [{ path: [], message: `unknown task ${taskId}` }] };
      const parsed = task.inputSchema.safeParse(input);
      if (!parsed.success) return validation(parsed);
      // Parsed once: normalise the parsed value rather than letting prepareJobInput parse it again.
      const normalized = task.normalize(parsed.data);
      return normalized.ok
        ? { ok: true, value: normalized.value }
        : { ok: false, issues: [{ path: [], message: normalized.error }] };
    },
    parseOutput(taskId, output) {
      const task = registry.get(taskId);
      if (!task) return { ok: false, issues: [{ path: [], message: `unknown task ${taskId}` }] };
      return validation(task.outputSchema.safeParse(output));
    },
    combine(taskId, outputs, gates) {
      const task = registry.get(taskId);
      if (!task || outputs.length === 0) return null;
      // Outputs reaching here were validated by parseOutput; an answer whose shape differs from the first (e.g. a
      // speech answer with another frame count) cannot be averaged in and is dropped with its gate.
      const shape = shapeOf(outputs[0]);
      const kept = outputs.flatMap((o, i) => (shapeOf(o) === shape ? [{ o, g: gates[i] ?? 0 }] : []));
      return task.combine(
        kept.map((k) => k.o),
        kept.map((k) => k.g),
      );
    },
  };
}

/** Array lengths of an output, as a string: two outputs with equal shapes can be averaged element-wise. */
function shapeOf(value: unknown): string {
  if (Array.isArray(value)) return `[${value.length}]`;
  if (value !== null && typeof value === "object") {
    return Object.entries(value)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}:${shapeOf(v)}`)
      .join(",");
  }
  return typeof value;
}
