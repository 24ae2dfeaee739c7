import type { ApiKeyRecord } from "../keys/schema.ts";

/**
 * Keys port. The verify path is one read by hash (`pk=KEY#<sha256>`); the id item only points at the hash, so a
 * secret is never needed to manage a key and never stored.
 */
export interface KeyStore {
  /** Stores a new key; false when the hash or the id is taken. */
  create(key: ApiKeyRecord): Promise<boolean>;
  getByHash(hash: string): Promise<ApiKeyRecord | null>;
  getById(keyId: string): Promise<ApiKeyRecord | null>;
  /** Sets `revokedAt` (idempotent: the first revocation time stays); null when there is no such key. */
  revoke(keyId: string, at: number): Promise<ApiKeyRecord | null>;
  /**
   * Replaces the key's secret: `next.hash` becomes the key's (same id, account, scopes, limits), and the previous
   * secret keeps working until `previousUntil` (or its own earlier expiry). Revoking the key revokes both. null when
   * there is no such key, it is revoked, or another rotation won the race.
   */
  rotate(
    keyId: string,
    next: { readonly hash: string; readonly start: string; readonly at: number; readonly webhookSecret?: string },
    previousUntil: number,
  ): Promise<{ readonly key: ApiKeyRecord; readonly previous: ApiKeyRecord } | null>;
  /**
   * Keys (their current record), one account's or all, `limit` at most, after `cursor` (opaque, from a previous
   * page's `next`; an unreadable cursor reads as the first page's end: no keys, `next` null).
   */
  list(page: {
    readonly accountId?: string;
    readonly limit: number;
    readonly cursor?: string;
  }): Promise<{ readonly keys: ApiKeyRecord[]; readonly next: string | null }>;
}
