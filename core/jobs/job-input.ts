import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { ByteCodec } from "../ports/bytes.ts";
import { canonicalJsonParts } from "../receipts/canonical-json.ts";
import { base64ByteLength, base64ToBytes, bytesToBase64 } from "../tasks/base64.ts";

/*
 * Job inputs on the queue and their digest (issue 13's integrity, issue 17's cost): the one definition used by the
 * gateway and the validator, which record the digest with each job, and by the worker, which runs a message only
 * when its input has that digest.
 *
 * - A tensor (a non-empty array of finite numbers, or a Float32Array) is what the runners feed as float32: its
 *   digest is SHA-256 of TENSOR_DIGEST_DOMAIN followed by its little-endian float32 bytes, and it travels as the
 *   message's `tensor`, the base64 of those bytes. The worker hashes the bytes it decoded and hands the runner a
 *   Float32Array of the same bytes: no JSON of hundreds of numbers is written, parsed or re-serialised per job.
 * - Anything else (a speech job's `{pcm16}`) digests as SHA-256 of its canonical JSON and travels as `input`.
 * The digest belongs to the value, not to how it travelled: a tensor sent as a JSON `input` digests the same.
 * No canonical JSON text starts with "m", so no JSON input shares a digest with a tensor.
 */
export const TENSOR_DIGEST_DOMAIN = "market-input:f32:";

function pureSha256(parts: readonly (string | Uint8Array)[]): Uint8Array {
  const hash = sha256.create();
  for (const part of parts) hash.update(typeof part === "string" ? utf8ToBytes(part) : part);
  return hash.digest();
}

/** The pure-JS ByteCodec (noble's SHA-256, atob/btoa): same results as adapters/bytes/node-bytes.ts, slower. */
export const pureBytes: ByteCodec = {
  sha256Hex: (parts) => bytesToHex(pureSha256(parts)),
  sha256: pureSha256,
  toBase64: bytesToBase64,
  fromBase64Into(text, out) {
    const bytes = base64ToBytes(text);
    if (bytes.length > out.length) throw new RangeError("base64 text holds more bytes than its target");
    out.set(bytes);
    return bytes.length;
  },
};

/** How a job input travels inside a job message: exactly one of the two. */
export type WireInput = { readonly input: unknown } | { readonly tensor: string };

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The tensor a job input is, or undefined when it is not one. */
function tensorOf(input: unknown): Float32Array | undefined {
  if (input instanceof Float32Array) return input;
  if (!Array.isArray(input) || input.length === 0) return undefined;
  for (let i = 0; i < input.length; i++) {
    const v: unknown = input[i];
    if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
  }
  return Float32Array.from(input as number[]);
}

/** Little-endian float32 bytes of a tensor (a view on it on the usual little-endian host). */
function tensorBytes(tensor: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(tensor.buffer, tensor.byteOffset, tensor.byteLength);
  const out = new Uint8Array(tensor.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < tensor.length; i++) view.setFloat32(i * 4, tensor[i] ?? 0, true);
  return out;
}

/**
 * A tensor's base64 text decoded straight into the memory of a Float32Array (aligned, its own), and the
 * little-endian bytes it was decoded from (a view on the same memory on a little-endian host).
 */
function tensorFromBase64(text: string, bytes: ByteCodec): { tensor: Float32Array; raw: Uint8Array } {
  const size = base64ByteLength(text);
  if (size <= 0 || size % 4 !== 0) {
    throw new TypeError(`a tensor input holds ${size} bytes: not whole float32 values`);
  }
  const raw = new Uint8Array(size);
  const written = bytes.fromBase64Into(text, raw);
  if (written !== size) throw new TypeError(`a tensor input is not canonical base64 (${written} of ${size} bytes)`);
  if (LITTLE_ENDIAN) return { tensor: new Float32Array(raw.buffer), raw };
  const tensor = new Float32Array(size / 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < tensor.length; i++) tensor[i] = view.getFloat32(i * 4, true);
  return { tensor, raw };
}

/** The digest of a job input (hex SHA-256, see above); throws on a value JSON cannot carry. */
export function inputDigest(input: unknown, bytes: ByteCodec = pureBytes): string {
  const tensor = tensorOf(input);
  if (tensor !== undefined) return bytes.sha256Hex([TENSOR_DIGEST_DOMAIN, tensorBytes(tensor)]);
  return bytes.sha256Hex(canonicalJsonParts(input));
}

/** Sender side: how the input travels in its job messages, and the digest its job records hold. */
export function encodeJobInput(input: unknown, bytes: ByteCodec = pureBytes): { wire: WireInput; digest: string } {
  const tensor = tensorOf(input);
  if (tensor === undefined) return { wire: { input }, digest: bytes.sha256Hex(canonicalJsonParts(input)) };
  const raw = tensorBytes(tensor);
  return {
    wire: { tensor: bytes.toBase64(raw) },
    digest: bytes.sha256Hex([TENSOR_DIGEST_DOMAIN, raw]),
  };
}

/**
 * Worker side: the input a message carries, as the runner takes it (a Float32Array for a tensor), and its digest.
 * Throws a TypeError when the message carries both forms or neither, or a tensor that is not whole float32 values.
 */
export function decodeJobInput(
  message: { readonly input?: unknown; readonly tensor?: string | undefined },
  bytes: ByteCodec = pureBytes,
): { input: unknown; digest: string } {
  if (message.tensor === undefined) {
    if (message.input === undefined) throw new TypeError("the message carries no input");
    return { input: message.input, digest: inputDigest(message.input, bytes) };
  }
  if (message.input !== undefined) throw new TypeError("the message carries both an input and a tensor");
  const { tensor, raw } = tensorFromBase64(message.tensor, bytes);
  return { input: tensor, digest: bytes.sha256Hex([TENSOR_DIGEST_DOMAIN, raw]) };
}
