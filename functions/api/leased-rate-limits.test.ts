import { describe, expect, it } from "vitest";
import { MemoryRateLimits } from "../../adapters/tables/memory-rate-limits.ts";
import { fixedWindow } from "../../core/keys/rate-limit.ts";
import type { RateLimitStore } from "../../core/ports/rate-limit.ts";
import { leasedRateLimits } from "./leased-rate-limits.ts";

function counted(inner: RateLimitStore) {
  const calls = { n: 0 };
  const store: RateLimitStore = {
    hit: (bucket, window, units) => {
      calls.n++;
      return inner.hit(bucket, window, units);
    },
  };
  return { store, calls };
}

describe("leasedRateLimits", () => {
  it("counts leases of ten in the shared window: one call per ten requests, the client's count exact", async () => {
    const { store, calls } = counted(new MemoryRateLimits());
    const limiter = leasedRateLimits(store);
    const w = fixedWindow({ perMinute: 60_000, burst: 1_000 }, 0); // capacity 1,000
    const counts = [];
    for (let i = 0; i < 25; i++) counts.push(await limiter.hit("key:a", w));
    expect(counts.every((c) => c.allowed)).toBe(true);
    expect(counts.map((c) => c.count)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(calls.n).toBe(3);
    // A new window starts a new lease.
    await limiter.hit("key:a", fixedWindow({ perMinute: 60_000, burst: 1_000 }, w.lengthMs));
    expect(calls.n).toBe(4);
  });

  it("never admits more than the capacity across instances, and lets the last requests through one by one", async () => {
    const shared = new MemoryRateLimits();
    const a = leasedRateLimits(shared);
    const b = leasedRateLimits(shared);
    const w = fixedWindow({ perMinute: 2_400, burst: 45 }, 0); // capacity 45: leases of 2
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).hit("key:b", w)));
    const admitted = all.filter((c) => c.allowed).length;
    expect(admitted).toBeLessThanOrEqual(45);
    // Each instance leaves at most one leased request unused.
    expect(admitted).toBeGreaterThanOrEqual(43);
  });

  it("small windows lease one at a time, exactly as the shared limiter alone", async () => {
    const { store, calls } = counted(new MemoryRateLimits());
    const limiter = leasedRateLimits(store);
    const w = fixedWindow({ perMinute: 60, burst: 5 }, 0);
    const allowed = [];
    for (let i = 0; i < 7; i++) allowed.push((await limiter.hit("key:c", w)).allowed);
    expect(allowed).toEqual([true, true, true, true, true, false, false]);
    expect(calls.n).toBe(7);
  });
});
