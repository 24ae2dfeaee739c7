import { keyState } from "../../core/keys/schema.ts";
import type { KeyStore } from "../../core/ports/keys.ts";

/**
 * The key store as the API's auth reads it (issue 17: one read less per paid query): a key found valid is kept for
 * `ttlMs` by the hash of its secret, so a client's queries within that time cost no key read. Revocation bound: a
 * key revoked or rotated through this API instance is dropped at once; one revoked through another instance (or
 * the table directly) keeps working here for at most `ttlMs`; its spend and rate limits changed elsewhere take
 * effect here within the same bound. Expiry is exact (the caller checks the key's state at every use). Only valid
 * keys are kept; unknown and bad ones go through the AuthGuard's own negative cache. At most `maxEntries` keys
 * (oldest dropped first), so a flood of distinct valid keys cannot grow the process.
 */
export function cachedKeyStore(
  inner: KeyStore,
  options: { readonly ttlMs: number; readonly now: () => number; readonly maxEntries?: number },
): KeyStore {
  if (options.ttlMs <= 0) return inner;
  const max = options.maxEntries ?? 10_000;
  type Key = Awaited<ReturnType<KeyStore["getByHash"]>>;
  const byHash = new Map<string, { key: Key; until: number }>();
  /** The read out for each hash, and the count of changes when it began. */
  const reading = new Map<string, { key: Promise<Key>; changes: number }>();
  // Counts revocations and rotations begun here: a read begun before one may return the key as it was before it
  // (its answer can arrive after the revocation's), so its answer is not kept.
  let changes = 0;
  const forget = (keyId: string) => {
    changes++;
    for (const [hash, entry] of byHash) if (entry.key?.keyId === keyId) byHash.delete(hash);
  };
  return {
    create: (key) => inner.create(key),
    getById: (keyId) => inner.getById(keyId),
    list: (page) => inner.list(page),
    async getByHash(hash) {
      const now = options.now();
      const hit = byHash.get(hash);
      if (hit && hit.until > now) return hit.key;
      byHash.delete(hash);
      // Requests that miss together share one read (at 64 clients on one key, every request in flight when the
      // entry ran out read the key again: issue 17), but only one begun since the last revocation or rotation here.
      const out = reading.get(hash);
      if (out && out.changes === changes) return out.key;
      const before = changes;
      const read = inner.getByHash(hash).finally(() => {
        if (reading.get(hash)?.key === read) reading.delete(hash);
      });
      reading.set(hash, { key: read, changes: before });
      const key = await read;
      if (key && keyState(key, now) === "valid" && changes === before) {
        if (byHash.size >= max) {
          const oldest = byHash.keys().next().value;
          if (oldest !== undefined) byHash.delete(oldest);
        }
        byHash.set(hash, { key, until: now + options.ttlMs });
      }
      return key;
    },
    async revoke(keyId, at) {
      forget(keyId);
      const revoked = await inner.revoke(keyId, at);
      // A read that raced the revocation may have put the key back: drop it again.
      forget(keyId);
      return revoked;
    },
    async rotate(keyId, next, previousUntil) {
      forget(keyId);
      const rotated = await inner.rotate(keyId, next, previousUntil);
      forget(keyId);
      return rotated;
    },
  };
}
