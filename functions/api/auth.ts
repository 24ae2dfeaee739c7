import { createHash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { constantTimeEqual, looksLikeApiKey } from "../../core/keys/api-key.ts";
import { fixedWindow, windowStatus } from "../../core/keys/rate-limit.ts";
import { keyState, type Scope } from "../../core/keys/schema.ts";
import { type AuthGuard, clientAddress } from "./auth-guard.ts";
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
 * Client-key auth -> scope -> rate limit. Sets `c.var.key`. A failing credential costs at most one table read and
 * counts against the client address (AuthGuard); a valid key costs its read and one conditional write to the shared
 * limiter (deps.rateLimits), so every API instance enforces the same per-key limit.
 */
export function requireKey(deps: ApiDeps, guard: AuthGuard, scope: Scope): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const now = deps.clock.now();
    const address = clientAddress(c);
    refuseBlocked(guard, address, now);
    const secret = bearer(c.req.header("authorization"));
    const fail = (): never => {
      guard.recordFailure(address, now);
      throw new ApiError("unauthorized", INVALID_KEY);
    };
    if (secret === null || !looksLikeApiKey(secret)) return fail();
    const hash = hashKeyNative(secret);
    if (guard.isKnownBad(hash, now)) return fail();
    const key = await deps.keys.getByHash(hash);
    if (!key || keyState(key, now) !== "valid") {
      // Revoked and expired are final; an unknown hash is only trusted as unknown once it stays missing.
      guard.rememberBad(hash, now, key !== null);
      return fail();
    }
    guard.forget(hash);
    if (!key.scopes.includes(scope)) throw new ApiError("forbidden", `this key lacks the "${scope}" scope`);
    const window = fixedWindow(key.rateLimit, now);
    const status = windowStatus(window, await deps.rateLimits.hit(`key:${key.keyId}`, window), now);
    if (!status.ok) {
      throw new ApiError("rate_limited", "rate limit exceeded", { retryAfterSeconds: status.resetSeconds });
    }
    c.set("key", key);
    await next();
    // IETF draft ratelimit headers, on the final response (an error's too).
    c.res.headers.set("ratelimit-policy", `"key";q=${status.limit};w=${status.windowSeconds}`);
    c.res.headers.set("ratelimit", `"key";r=${status.remaining};t=${status.resetSeconds}`);
  };
}

function refuseBlocked(guard: AuthGuard, address: string, now: number): void {
  const waitMs = guard.blockedFor(address, now);
  if (waitMs > 0) {
    throw new ApiError("rate_limited", "too many failed authentication attempts from this address", {
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    });
  }
}

/** Operator routes: `Authorization: Bearer <MARKET_ADMIN_TOKEN>`, compared in constant time. */
export function requireAdmin(deps: ApiDeps, guard: AuthGuard): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const now = deps.clock.now();
    const address = clientAddress(c);
    refuseBlocked(guard, address, now);
    const token = bearer(c.req.header("authorization"));
    if (token === null || deps.config.adminToken.length < 16 || !constantTimeEqual(token, deps.config.adminToken)) {
      guard.recordFailure(address, now);
      throw new ApiError("unauthorized", "missing or invalid admin token");
    }
    await next();
  };
}
