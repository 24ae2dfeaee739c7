import { describe, expect, it } from "vitest";
import { MemoryKeyStore } from "../../adapters/tables/memory-keys.ts";
import { type ApiKeyRecord, DEFAULT_RATE_LIMIT } from "../../core/keys/schema.ts";
import type { KeyStore } from "../../core/ports/keys.ts";
import { cachedKeyStore } from "./key-cache.ts";

const HASH = "a".repeat(64);
const key: ApiKeyRecord = {
  keyId: "key_1",
  accountId: "acct_1",
  name: "k",
  hash: HASH,
  start: "mk_live_a",
  env: "live",
  scopes: ["infer"],
  rateLimit: DEFAULT_RATE_LIMIT,
  createdAt: 0,
};

function counted(inner: KeyStore) {
  const reads = { n: 0 };
  const store: KeyStore = {
    ...inner,
    create: (k) => inner.create(k),
    getById: (id) => inner.getById(id),
    list: (p) => inner.list(p),
    revoke: (id, at) => inner.revoke(id, at),
    rotate: (id, next, until) => inner.rotate(id, next, until),
    getByHash: (h) => {
      reads.n++;
      return inner.getByHash(h);
    },
  };
  return { store, reads };
}

describe("cachedKeyStore", () => {
  it("reads a valid key once per ttl; a revocation through it is seen at once; one elsewhere within the ttl", async () => {
    const inner = new MemoryKeyStore();
    await inner.create(key);
    const { store, reads } = counted(inner);
    let now = 1_000;
    const cache = cachedKeyStore(store, { ttlMs: 5_000, now: () => now });
    expect(await cache.getByHash(HASH)).toMatchObject({ keyId: "key_1" });
    expect(await cache.getByHash(HASH)).toMatchObject({ keyId: "key_1" });
    expect(reads.n).toBe(1);
    // Revoked behind the cache's back (another instance): served from the cache until the ttl ends, then read.
    await inner.revoke("key_1", now);
    expect((await cache.getByHash(HASH))?.revokedAt).toBeUndefined();
    now += 5_001;
    expect((await cache.getByHash(HASH))?.revokedAt).toBe(1_000);
    expect(reads.n).toBe(2);
    // Revoked keys are not kept: every later use reads.
    await cache.getByHash(HASH);
    expect(reads.n).toBe(3);
  });

  it("drops a key revoked or rotated through it at once, and keeps no unknown hash", async () => {
    const inner = new MemoryKeyStore();
    await inner.create(key);
    const { store, reads } = counted(inner);
    const cache = cachedKeyStore(store, { ttlMs: 60_000, now: () => 1_000 });
    await cache.getByHash(HASH);
    await cache.revoke("key_1", 1_000);
    expect((await cache.getByHash(HASH))?.revokedAt).toBe(1_000);
    expect(await cache.getByHash("b".repeat(64))).toBeNull();
    expect(await cache.getByHash("b".repeat(64))).toBeNull();
    expect(reads.n).toBe(4);
  });

  it("keeps at most maxEntries keys, and ttl 0 is no cache", async () => {
    const inner = new MemoryKeyStore();
    const hashes = ["1", "2", "3"].map((c) => c.repeat(64));
    for (const [i, hash] of hashes.entries()) await inner.create({ ...key, keyId: `key_${i}`, hash });
    const { store, reads } = counted(inner);
    const cache = cachedKeyStore(store, { ttlMs: 60_000, now: () => 1_000, maxEntries: 2 });
    for (const hash of hashes) await cache.getByHash(hash);
    await cache.getByHash(hashes[0] ?? "");
    expect(reads.n).toBe(4);
    expect(cachedKeyStore(store, { ttlMs: 0, now: () => 0 })).toBe(store);
  });

  it("a read that was in flight while the key was revoked through it is not cached (the revocation acts at once)", async () => {
    const inner = new MemoryKeyStore();
    await inner.create(key);
    // The read is answered with the key as it was when the read was served (before the revocation), but its answer
    // arrives only after the revocation returned: as a DynamoDB read sent just before a revoke can.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let stalled = true;
    const store: KeyStore = {
      ...inner,
      create: (k) => inner.create(k),
      getById: (id) => inner.getById(id),
      list: (p) => inner.list(p),
      revoke: (id, at) => inner.revoke(id, at),
      rotate: (id, next, until) => inner.rotate(id, next, until),
      getByHash: async (h) => {
        const served = await inner.getByHash(h);
        if (stalled) {
          stalled = false;
          await gate;
        }
        return served;
      },
    };
    const cache = cachedKeyStore(store, { ttlMs: 60_000, now: () => 1_000 });
    const inFlight = cache.getByHash(HASH);
    await cache.revoke("key_1", 1_000);
    release();
    // That one request saw the key as it was when its read began...
    expect((await inFlight)?.revokedAt).toBeUndefined();
    // ...but the next one through this instance must see the revocation, not a cached copy of the stale read.
    expect((await cache.getByHash(HASH))?.revokedAt).toBe(1_000);
  });

  it("requests that miss together share one read, but none begun before a revocation through it", async () => {
    const inner = new MemoryKeyStore();
    await inner.create(key);
    const { store, reads } = counted(inner);
    let now = 1_000;
    const cache = cachedKeyStore(store, { ttlMs: 5_000, now: () => now });
    // Sixty-four requests in flight when the entry runs out: one read between them.
    const first = await Promise.all(Array.from({ length: 64 }, () => cache.getByHash(HASH)));
    expect(first.every((k) => k?.keyId === "key_1")).toBe(true);
    expect(reads.n).toBe(1);
    now += 5_001;
    await Promise.all(Array.from({ length: 64 }, () => cache.getByHash(HASH)));
    expect(reads.n).toBe(2);
    // A read out when a revocation through this cache begins is not shared with requests that come after it.
    now += 5_001;
    const before = cache.getByHash(HASH);
    const revoking = cache.revoke("key_1", now);
    const after = cache.getByHash(HASH);
    await revoking;
    await before;
    expect(reads.n).toBe(4);
    expect((await after)?.revokedAt).toBe(now);
  });
});
