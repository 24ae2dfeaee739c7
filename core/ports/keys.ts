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
}
