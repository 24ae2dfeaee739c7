import type { RateLimit } from "./schema.ts";

/** Token bucket state: tokens left (fractional) at time `at` (ms). */
export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

export type TakeResult =
  | { readonly ok: true; readonly bucket: Bucket; readonly remaining: number }
  | { readonly ok: false; readonly bucket: Bucket; readonly retryAfterMs: number };

/** Refills at `perMinute/60000` tokens per ms up to `burst`, then takes one token if there is one. */
export function takeToken(previous: Bucket | undefined, limit: RateLimit, now: number): TakeResult {
  const ratePerMs = limit.perMinute / 60_000;
  const start = previous ?? { tokens: limit.burst, at: now };
  const elapsed = Math.max(0, now - start.at);
  const tokens = Math.min(limit.burst, start.tokens + elapsed * ratePerMs);
  if (tokens >= 1) {
    return { ok: true, bucket: { tokens: tokens - 1, at: now }, remaining: Math.floor(tokens - 1) };
  }
  return { ok: false, bucket: { tokens, at: now }, retryAfterMs: Math.ceil((1 - tokens) / ratePerMs) };
}
