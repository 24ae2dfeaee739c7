import { z } from "zod";
import { decodePcm16 } from "../../core/tasks/pcm16.ts";
import { nodeBytes } from "../bytes/node-bytes.ts";

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
  checkLength(out, what, length);
  return out;
}

const Pcm16Input = z.object({ pcm16: z.string() });

/**
 * Turns one untrusted speech job input into float32 samples; throws a short reason. The queue carries `{pcm16}`
 * (base64 little-endian Int16, core/tasks/pcm16.ts); raw sample arrays are still taken from in-process callers
 * (the runtime's warm-up on silence).
 */
export function pcm16ToFloat32(input: unknown, what: string, length?: { exact?: number; min?: number }): Float32Array {
  if (input instanceof Float32Array || Array.isArray(input)) return toFloat32(input, what, length);
  const parsed = Pcm16Input.safeParse(input);
  if (!parsed.success) throw new Error(`${what}: expected {pcm16: base64 of 16-bit samples}`);
  let out: Float32Array;
  try {
    out = decodePcm16(parsed.data.pcm16, nodeBytes.fromBase64Into);
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : "invalid pcm16"}`);
  }
  checkLength(out, what, length);
  return out;
}

function checkLength(out: Float32Array, what: string, length?: { exact?: number; min?: number }): void {
  if (length?.exact !== undefined && out.length !== length.exact)
    throw new Error(`${what}: expected ${length.exact} values, got ${out.length}`);
  if (length?.min !== undefined && out.length < length.min)
    throw new Error(`${what}: expected at least ${length.min} values, got ${out.length}`);
}
