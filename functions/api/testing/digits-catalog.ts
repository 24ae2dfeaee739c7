import { z } from "zod";
import type { TaskCatalog, Validation } from "../deps.ts";

/**
 * A small stand-in for the core/tasks registry, enough for the API's tests and bench: task `digits`,
 * input {pixels: 784 floats in [0,1]}, output {probs: 10 floats}, 1000 micro-credits per answer.
 */
export const DIGITS_PRICE = 1000;
const Pixels = z.array(z.number().min(0).max(1)).length(784);
const Input = z.strictObject({ pixels: Pixels });
const Output = z.strictObject({ probs: z.array(z.number().min(0).max(1)).length(10) });

function validation<T>(schema: z.ZodType<T>, value: unknown): Validation<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({
      path: i.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
      message: i.message,
    })),
  };
}

export function digitsCatalog(): TaskCatalog {
  const task = {
    id: "digits",
    description: "Handwritten digit recognition: 28x28 grayscale -> probabilities of 0..9",
    inputJsonSchema: z.toJSONSchema(Input) as Record<string, unknown>,
    outputJsonSchema: z.toJSONSchema(Output) as Record<string, unknown>,
    pricePerAnswer: DIGITS_PRICE,
  };
  return {
    list: () => [task],
    get: (id) => (id === task.id ? task : undefined),
    async prepare(id, input) {
      if (id !== task.id) return { ok: false, issues: [{ path: [], message: "unknown task" }] };
      const v = validation(Input, input);
      return v.ok ? { ok: true, value: v.value.pixels } : v;
    },
    parseOutput: (_id, output) => validation(Output, output),
    combine(_id, outputs, gates) {
      const probs = new Array<number>(10).fill(0);
      outputs.forEach((o, i) => {
        const parsed = Output.parse(o);
        parsed.probs.forEach((p, c) => {
          probs[c] = (probs[c] ?? 0) + p * (gates[i] ?? 0);
        });
      });
      return { probs: probs.map((p) => Math.min(1, Math.max(0, p))) };
    },
  };
}
