import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { canonicalJson } from "../../../core/receipts/canonical-json.ts";

export function randomId(prefix: string): string {
  return `${prefix}_${bytesToHex(randomBytes(12))}`;
}

/** A request id derived from the account and its Idempotency-Key, so the same key always lands on the same request. */
export function idempotentRequestId(accountId: string, idempotencyKey: string): string {
  return `req_${bytesToHex(sha256(utf8ToBytes(`${accountId}\n${idempotencyKey}`))).slice(0, 32)}`;
}

export function fingerprint(value: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(value))));
}

export const jobIdOf = (requestId: string, uid: number) => `${requestId}:${uid}`;
