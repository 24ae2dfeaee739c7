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

/**
 * A fixed-window counter equivalent of a key's token bucket, for a limiter shared by every API instance (one
 * conditional increment per request, no read): a window lasts as long as the bucket takes to refill its burst
 * (`burst / perMinute` minutes) and admits `burst` requests, so the sustained rate is `perMinute`. Windows are
 * clamped to [1 s, 1 h]; at the clamps the capacity follows the rate (one second's or one hour's worth). As with
 * any fixed window, up to twice the capacity can pass around a window boundary.
 */
export interface FixedWindow {
  /** Start of the current window, ms (aligned to the window length). */
  readonly start: number;
  readonly lengthMs: number;
  /** Requests admitted per window. */
  readonly capacity: number;
}

export const MIN_WINDOW_MS = 1000;
export const MAX_WINDOW_MS = 3_600_000;

export function fixedWindow(limit: RateLimit, now: number): FixedWindow {
  const raw = Math.round((limit.burst * 60_000) / limit.perMinute);
  const lengthMs = Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, raw));
  const capacity = Math.max(1, Math.round((limit.perMinute * lengthMs) / 60_000));
  return { start: Math.floor(now / lengthMs) * lengthMs, lengthMs, capacity };
}

/** What a shared limiter answers for one request: admitted or not, and the window's count after it. */
export interface WindowCount {
  readonly allowed: boolean;
  /** Requests counted in the window (the capacity when refused). */
  readonly count: number;
}

/** The client-facing view: remaining requests and seconds until the window resets (>= 1). */
export function windowStatus(window: FixedWindow, counted: WindowCount, now: number) {
  return {
    ok: counted.allowed,
    limit: window.capacity,
    remaining: Math.max(0, window.capacity - counted.count),
    resetSeconds: Math.max(1, Math.ceil((window.start + window.lengthMs - now) / 1000)),
    windowSeconds: Math.ceil(window.lengthMs / 1000),
  };
}
