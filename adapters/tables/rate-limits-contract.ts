import { describe, expect, it } from "vitest";
import { fixedWindow } from "../../core/keys/rate-limit.ts";
import type { RateLimitStore } from "../../core/ports/rate-limit.ts";

let seq = 0;
const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${(seq++).toString(36)}`;

/** Behaviour every RateLimitStore must have (MemoryRateLimits in unit tests, DynamoRateLimits on dynalite). */
export function describeRateLimitContract(name: string, make: () => RateLimitStore): void {
  describe(name, () => {
    const limit = { perMinute: 60, burst: 5 }; // 5 per 5 s window

    it("admits the window's capacity, refuses the rest without counting them, and starts over next window", async () => {
      const store = make();
      const bucket = uniq("key");
      const w = fixedWindow(limit, 1_000_000);
      const counts = [];
      for (let i = 0; i < 7; i++) counts.push(await store.hit(bucket, w));
      expect(counts.map((c) => c.allowed)).toEqual([true, true, true, true, true, false, false]);
      expect(counts.map((c) => c.count)).toEqual([1, 2, 3, 4, 5, 5, 5]);
      const next = fixedWindow(limit, w.start + w.lengthMs);
      expect(await store.hit(bucket, next)).toEqual({ allowed: true, count: 1 });
      expect((await store.hit(uniq("other"), w)).allowed).toBe(true);
    });

    it("counts several units at once, all or none", async () => {
      const store = make();
      const bucket = uniq("key");
      const w = fixedWindow(limit, 3_000_000);
      expect(await store.hit(bucket, w, 3)).toEqual({ allowed: true, count: 3 });
      expect((await store.hit(bucket, w, 3)).allowed).toBe(false);
      expect(await store.hit(bucket, w, 2)).toEqual({ allowed: true, count: 5 });
      expect((await store.hit(bucket, w)).allowed).toBe(false);
      expect((await store.hit(uniq("key"), w, 6)).allowed).toBe(false);
    });

    it("is shared: two instances over the same store never admit more than the capacity together", async () => {
      const a = make();
      const b = make();
      const bucket = uniq("key");
      const w = fixedWindow(limit, 2_000_000);
      const all = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).hit(bucket, w)));
      expect(all.filter((c) => c.allowed)).toHaveLength(5);
    });
  });
}
