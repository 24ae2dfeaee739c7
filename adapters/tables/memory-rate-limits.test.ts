import { describe, expect, it } from "vitest";
import { fixedWindow } from "../../core/keys/rate-limit.ts";
import { MemoryRateLimits } from "./memory-rate-limits.ts";
import { describeRateLimitContract } from "./rate-limits-contract.ts";

// One store for the whole contract: its "two instances" share it as API instances share the table.
const shared = new MemoryRateLimits();
describeRateLimitContract("MemoryRateLimits", () => shared);

describe("MemoryRateLimits bounds", () => {
  it("forgets the least recently used bucket beyond its size", async () => {
    const store = new MemoryRateLimits(2);
    const w = fixedWindow({ perMinute: 60, burst: 1 }, 0);
    expect((await store.hit("a", w)).allowed).toBe(true);
    expect((await store.hit("b", w)).allowed).toBe(true);
    expect((await store.hit("c", w)).allowed).toBe(true);
    // "a" was dropped (at worst a key is forgiven a few requests), "c" is still counted.
    expect((await store.hit("a", w)).allowed).toBe(true);
    expect((await store.hit("c", w)).allowed).toBe(false);
  });
});
