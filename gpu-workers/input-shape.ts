import type { ExpertManifest } from "../core/experts/manifest.ts";

/**
 * Checks a job input against the model's first input tensor before it can poison a whole batch: a classifier
 * takes one flat row of numbers per item, its length the product of the tensor's non-batch dimensions.
 * Returns a reason when the input cannot be fed, null when it can. Other runners validate inputs themselves.
 */
export function inputProblem(manifest: ExpertManifest, input: unknown): string | null {
  if (manifest.runner !== "classifier") return null;
  const spec = manifest.model.inputs[0];
  if (spec === undefined) return "model declares no input";
  // A tensor arrives from the queue as a Float32Array (core/jobs/job-input.ts); in-process callers may pass arrays.
  if (!Array.isArray(input) && !(input instanceof Float32Array)) {
    return `input must be an array of numbers for ${spec.name}`;
  }
  const rowDims = spec.dims.slice(1);
  if (rowDims.every((d) => d !== null)) {
    const expected = rowDims.reduce<number>((a, d) => a * (d ?? 1), 1);
    if (input.length !== expected) return `input has ${input.length} values, ${spec.name} needs ${expected}`;
  }
  const integer = spec.type === "int64";
  const values: ArrayLike<unknown> = input;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      return `input value ${i} is not a finite ${integer ? "integer" : "number"}`;
    }
  }
  return null;
}
