import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * Client API keys: `mk_live_` or `mk_test_` + 64 hex chars (256 random bits). The prefix lets secret scanners and
 * humans tell environments apart; only the SHA-256 of the whole key and a short display prefix are ever stored.
 * An unsalted fast hash is enough because the secret has 256 bits of entropy (Unkey does the same).
 */
export type KeyEnvironment = "live" | "test";

export const API_KEY_PATTERN = /^mk_(live|test)_[0-9a-f]{64}$/;
/** How many characters of the key are kept for display (`mk_live_` + 6). */
const DISPLAY_LENGTH = 14;

export interface GeneratedKey {
  /** The secret, shown once to the caller and never stored. */
  readonly secret: string;
  readonly hash: string;
  readonly start: string;
}

export function hashApiKey(secret: string): string {
  return bytesToHex(sha256(utf8ToBytes(secret)));
}

export function generateApiKey(env: KeyEnvironment, random: (n: number) => Uint8Array = randomBytes): GeneratedKey {
  const secret = `mk_${env}_${bytesToHex(random(32))}`;
  return { secret, hash: hashApiKey(secret), start: secret.slice(0, DISPLAY_LENGTH) };
}

/** True when the text has the shape of a key; a cheap filter before any table read. */
export function looksLikeApiKey(text: string): boolean {
  return API_KEY_PATTERN.test(text);
}

/** Constant-time comparison of two strings (for the admin token); the length difference leaks, the content not. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = utf8ToBytes(a);
  const y = utf8ToBytes(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
