import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { nodeBytes } from "../../../adapters/bytes/node-bytes.ts";
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
  return `req_${nodeBytes.sha256Hex([`${accountId}\n${idempotencyKey}`]).slice(0, 32)}`;
}

/**
 * SHA-256 of the canonical JSON of a value (equal values, whatever their key order, give the same digest): request
 * bodies (Idempotency-Key replays) and other records. A job input's digest is not this: it is core/jobs/job-input.ts
 * `inputDigest`, the one definition the workers check.
 */
export function fingerprint(value: unknown): string {
  return nodeBytes.sha256Hex([canonicalJson(value)]);
}

export const jobIdOf = (requestId: string, uid: number) => `${requestId}:${uid}`;
