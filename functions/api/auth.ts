import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual, looksLikeApiKey } from "../../core/keys/api-key.ts";
import { type Bucket, takeToken } from "../../core/keys/rate-limit.ts";
import { keyState, type Scope } from "../../core/keys/schema.ts";
import type { ApiDeps } from "./deps.ts";
import type { ApiEnv } from "./env.ts";
import { ApiError } from "./errors.ts";

/** Same answer for missing, malformed, unknown, wrong, revoked and expired keys: no existence oracle. */
const INVALID_KEY = "missing or invalid API key";

function bearer(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer ([^\s]+)$/.exec(header.trim());
  return match?.[1] ?? null;
}

/** core's `hashApiKey` (hex SHA-256 of the key's UTF-8) on node's native hash: same digest, several times faster. */
export function hashKeyNative(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/**
 * Token buckets per key, in this process (per Lambda instance, as Unkey's local counters). Bounded: the oldest
 * bucket is dropped beyond `max`, which at worst forgives a key some requests.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(private readonly max = 100_000) {}

  take(keyId: string, limit: { perMinute: number; burst: number }, now: number) {
    const result = takeToken(this.buckets.get(keyId), limit, now);
    this.buckets.delete(keyId);
    this.buckets.set(keyId, result.bucket);
    if (this.buckets.size > this.max) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    return result;
  }
}

/** Client-key auth -> scope -> rate limit. Sets `c.var.key`. */
export function requireKey(deps: ApiDeps, limiter: RateLimiter, scope: Scope): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const secret = bearer(c.req.header("authorization"));
    if (secret === null || !looksLikeApiKey(secret)) throw new ApiError("unauthorized", INVALID_KEY);
    const key = await deps.keys.getByHash(hashKeyNative(secret));
    const now = deps.clock.now();
    if (!key || keyState(key, now) !== "valid") throw new ApiError("unauthorized", INVALID_KEY);
    if (!key.scopes.includes(scope)) throw new ApiError("forbidden", `this key lacks the "${scope}" scope`);
    const taken = limiter.take(key.keyId, key.rateLimit, now);
    if (!taken.ok) {
      throw new ApiError("rate_limited", "rate limit exceeded", {
        retryAfterSeconds: Math.max(1, Math.ceil(taken.retryAfterMs / 1000)),
      });
    }
    c.set("key", key);
    await next();
  };
}

/** Operator routes: `Authorization: Bearer <MARKET_ADMIN_TOKEN>`, compared in constant time. */
export function requireAdmin(deps: ApiDeps): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const token = bearer(c.req.header("authorization"));
    if (token === null || deps.config.adminToken.length < 16 || !constantTimeEqual(token, deps.config.adminToken)) {
      throw new ApiError("unauthorized", "missing or invalid admin token");
    }
    await next();
  };
}
