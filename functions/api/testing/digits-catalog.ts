import { z } from "zod";
import type { TaskCatalog, Validation } from "../deps.ts";

/**
 * A small stand-in for the core/tasks registry, enough for the API's tests and bench: task `digits`,
 * input {pixels: 784 floats in [0,1]}, output {probs: 10 floats}, 1000 micro-credits per answer.
 */
export const DIGITS_PRICE = 1000;
const isUnit = (x: unknown): x is number => typeof x === "number" && x >= 0 && x <= 1;
/**
 * The same values as z.array(z.number().min(0).max(1)).length(784), checked by one refinement over the array:
 * a schema per element costs ~30 ns x 784 per request, a plain loop ~4 us. Issues keep the element's index. The
 * value passes through as it came (z.array would rebuild it with boxed numbers, twice as slow to serialise).
 */
const Pixels = z.unknown().superRefine((pixels, ctx) => {
  if (!Array.isArray(pixels)) {
    ctx.addIssue({ code: "custom", message: "expected an array of 784 numbers" });
    return;
  }
  if (pixels.length !== 784) ctx.addIssue({ code: "custom", message: "expected exactly 784 numbers" });
  for (let i = 0; i < pixels.length; i++) {
    if (!isUnit(pixels[i])) ctx.addIssue({ code: "custom", path: [i], message: "expected a number in [0, 1]" });
  }
});
const Input = z.strictObject({ pixels: Pixels });
/** What the docs show (the refinement above is invisible to JSON Schema). */
const DocumentedInput = z.strictObject({ pixels: z.array(z.number().min(0).max(1)).length(784) });
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
    inputJsonSchema: z.toJSONSchema(DocumentedInput) as Record<string, unknown>,
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
