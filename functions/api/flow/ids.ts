import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { canonicalJson } from "../../../core/receipts/canonical-json.ts";

const ID_BYTES = 12;
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** 96 random bits as hex. Taken from a pool filled 4 KiB at a time: one system call per ~340 ids, not per id. */
export function randomId(prefix: string): string {
  if (poolOffset + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const hex = pool.toString("hex", poolOffset, poolOffset + ID_BYTES);
  poolOffset += ID_BYTES;
  return `${prefix}_${hex}`;
}

/** A request id derived from the account and its Idempotency-Key, so the same key always lands on the same request. */
export function idempotentRequestId(accountId: string, idempotencyKey: string): string {
  return `req_${sha256Hex(`${accountId}\n${idempotencyKey}`).slice(0, 32)}`;
}

/**
 * SHA-256 of the canonical JSON of a value (equal values, whatever their key order, give the same digest).
 * `tensors` keeps the JSON of the number arrays met, for a caller that must serialise one of them again.
 */
export function fingerprint(value: unknown, tensors?: WeakMap<object, string>): string {
  return sha256Hex(fastCanonicalJson(value, tensors));
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * JSON of an array of finite numbers (a tensor: hundreds of pixels or samples) in one native call, else undefined.
 * JSON.stringify writes each finite number as canonical JSON does. (`join(",")` writes the same text and looks ~4x
 * faster on a constant array, but only thanks to V8's number-to-string cache: on varied pixels it is ~1.6x slower.)
 */
function numberArrayJson(value: readonly unknown[]): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    if (typeof v !== "number" || !Number.isFinite(v)) return undefined;
  }
  return JSON.stringify(value);
}

/**
 * Exactly `canonicalJson`, but arrays of finite numbers are written in one native call instead of one call per
 * element (same text: canonical JSON writes numbers as JSON.stringify does). `tensors` keeps the text of each such
 * array, for a caller that writes the same array again (the job input).
 */
export function fastCanonicalJson(value: unknown, tensors?: WeakMap<object, string>): string {
  if (Array.isArray(value)) {
    const numbers = numberArrayJson(value);
    if (numbers !== undefined) {
      tensors?.set(value, numbers);
      return numbers;
    }
    return `[${value.map((v) => fastCanonicalJson(v, tensors)).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${fastCanonicalJson(record[k], tensors)}`).join(",")}}`;
  }
  return canonicalJson(value);
}

/**
 * Exactly `JSON.stringify(value)` for the plain data a validator outputs (arrays, plain objects, primitives), with
 * tensors written as above (or taken from `tensors` when the fingerprint already wrote them). Anything else (class
 * instances, toJSON, typed arrays) goes to JSON.stringify whole, so the text never differs.
 */
export function fastJson(value: unknown, tensors?: WeakMap<object, string>): string | undefined {
  if (Array.isArray(value) && !("toJSON" in value)) {
    const known = tensors?.get(value);
    if (known !== undefined) return known;
    const numbers = numberArrayJson(value);
    if (numbers !== undefined) return numbers;
    // JSON writes undefined, functions and symbols inside arrays as null.
    return `[${value.map((v) => fastJson(v, tensors) ?? "null").join(",")}]`;
  }
  if (isPlainObject(value)) {
    const parts: string[] = [];
    for (const k of Object.keys(value)) {
      const text = fastJson(value[k], tensors);
      if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
    }
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !("toJSON" in value);
}

export const jobIdOf = (requestId: string, uid: number) => `${requestId}:${uid}`;
