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
 * Exactly `canonicalJson`, but arrays of finite numbers (tensors: hundreds of pixels or samples) are written by the
 * native JSON.stringify in one call, which is several times faster than one call per element and gives the same
 * text (canonical JSON writes numbers as JSON.stringify does).
 */
export function fastCanonicalJson(value: unknown, tensors?: WeakMap<object, string>): string {
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === "number" && Number.isFinite(v))) {
      const text = JSON.stringify(value);
      tensors?.set(value, text);
      return text;
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

export const jobIdOf = (requestId: string, uid: number) => `${requestId}:${uid}`;
