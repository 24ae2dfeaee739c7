import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../adapters/tables/memory-keys.ts";
import { MemoryRateLimits } from "../../adapters/tables/memory-rate-limits.ts";
import { generateApiKey } from "../../core/keys/api-key.ts";
import { createApp } from "./app.ts";
import { harness, manualClock } from "./testing/harness.ts";

/** A key store that counts the verify path's table reads. */
function countingKeys() {
  const inner = new MemoryKeyStore();
  let reads = 0;
  const keys = Object.assign(Object.create(inner) as MemoryKeyStore, {
    getByHash: (hash: string) => {
      reads++;
      return inner.getByHash(hash);
    },
  });
  return { keys, reads: () => reads };
}

const usage = (app: { request: (p: string, i: RequestInit) => Response | Promise<Response> }, key: string) =>
  Promise.resolve(app.request("/v1/usage", { headers: { authorization: `Bearer ${key}` } }));

describe("rate limits (issue 13.11)", () => {
  it("one key's limit is shared by every API instance, not one bucket per instance", async () => {
    // A clock that stands still: the requests cannot straddle a window boundary.
    const h = await harness({ clock: manualClock(), deps: { rateLimits: new MemoryRateLimits() } });
    const second = createApp(h.deps); // another Lambda instance over the same stores
    const key = await h.fundedKey(0, { rateLimit: { perMinute: 60, burst: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await usage(i % 2 ? second : h.app, key.key)).status);
    // The old per-process buckets admitted 3 on each instance (6 of 8).
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    const refused = await usage(h.app, key.key);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
  });

  it("says the key's policy and what is left in RateLimit headers", async () => {
    const h = await harness({ clock: manualClock() });
    const key = await h.fundedKey(0, { rateLimit: { perMinute: 60, burst: 3 } });
    const res = await usage(h.app, key.key);
    expect(res.headers.get("ratelimit-policy")).toBe('"key";q=3;w=3');
    expect(res.headers.get("ratelimit")).toMatch(/^"key";r=2;t=[1-3]$/);
    expect(res.status).toBe(200);
  });

  it("a repeated unknown key stops costing table reads once it is known to be unknown", async () => {
    const clock = manualClock();
    const counting = countingKeys();
    const h = await harness({ clock, deps: { keys: counting.keys } });
    const unknown = generateApiKey("live").secret;
    for (let i = 0; i < 3; i++) expect((await usage(h.app, unknown)).status).toBe(401);
    // Within the first seconds a key may be new and not yet visible: it is read again.
    expect(counting.reads()).toBe(3);
    clock.advance(2500);
    expect((await usage(h.app, unknown)).status).toBe(401);
    const confirmed = counting.reads();
    for (let i = 0; i < 50; i++) expect((await usage(h.app, unknown)).status).toBe(401);
    expect(counting.reads()).toBe(confirmed);
    // A revoked key is known bad at once.
    const key = await h.fundedKey(0);
    await h.admin.revokeKey(key.id);
    for (let i = 0; i < 5; i++) expect((await usage(h.app, key.key)).status).toBe(401);
    expect(counting.reads()).toBe(confirmed + 1);
  });

  it("an address that keeps failing authentication gets 429 with Retry-After, before any table read", async () => {
    const clock = manualClock();
    const counting = countingKeys();
    const h = await harness({
      clock,
      config: { authFailureLimit: { perMinute: 60, burst: 5 } },
      deps: { keys: counting.keys },
    });
    const guesses = Array.from({ length: 8 }, () => generateApiKey("live").secret);
    const statuses: number[] = [];
    for (const guess of guesses) statuses.push((await usage(h.app, guess)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(counting.reads()).toBe(5);
    const blocked = await usage(h.app, "mk_live_garbage");
    expect(blocked.headers.get("retry-after")).toBe("1");
    expect(blocked.headers.get("content-type")).toBe("application/problem+json");
    // Bad admin tokens count too.
    expect((await h.app.request("/v1/keys/x", { headers: { authorization: "Bearer nope" } })).status).toBe(429);
    // The bucket refills at the sustained rate: one more attempt a second later.
    clock.advance(1000);
    expect((await usage(h.app, guesses[0] ?? "")).status).toBe(401);
    expect((await usage(h.app, guesses[0] ?? "")).status).toBe(429);
  });
});
