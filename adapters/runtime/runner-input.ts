/** Turns one untrusted job input (number[] or Float32Array) into float32 samples; throws a short reason. */
export function toFloat32(input: unknown, what: string, length?: { exact?: number; min?: number }): Float32Array {
  let out: Float32Array;
  if (input instanceof Float32Array) {
    out = input;
  } else if (Array.isArray(input) && input.every((v) => typeof v === "number" && Number.isFinite(v))) {
    out = Float32Array.from(input as number[]);
  } else {
    throw new Error(`${what}: expected an array of finite numbers`);
  }
  if (length?.exact !== undefined && out.length !== length.exact)
    throw new Error(`${what}: expected ${length.exact} values, got ${out.length}`);
  if (length?.min !== undefined && out.length < length.min)
    throw new Error(`${what}: expected at least ${length.min} values, got ${out.length}`);
  return out;
}
