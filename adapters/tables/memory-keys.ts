import type { ApiKeyRecord } from "../../core/keys/schema.ts";
import type { KeyStore } from "../../core/ports/keys.ts";
import { copyRecord } from "./memory-clone.ts";

/** In-memory KeyStore with the same semantics as the DynamoDB one (unit tests, bench, ephemeral stack). */
export class MemoryKeyStore implements KeyStore {
  private readonly byHash = new Map<string, ApiKeyRecord>();
  private readonly hashById = new Map<string, string>();

  async create(key: ApiKeyRecord): Promise<boolean> {
    if (this.byHash.has(key.hash) || this.hashById.has(key.keyId)) return false;
    this.byHash.set(key.hash, copyRecord(key));
    this.hashById.set(key.keyId, key.hash);
    return true;
  }

  async getByHash(hash: string): Promise<ApiKeyRecord | null> {
    const key = this.byHash.get(hash);
    return key ? copyRecord(key) : null;
  }

  async getById(keyId: string): Promise<ApiKeyRecord | null> {
    const hash = this.hashById.get(keyId);
    return hash === undefined ? null : this.getByHash(hash);
  }

  async revoke(keyId: string, at: number): Promise<ApiKeyRecord | null> {
    const hash = this.hashById.get(keyId);
    const key = hash === undefined ? undefined : this.byHash.get(hash);
    if (!key) return null;
    if (key.revokedAt === undefined) key.revokedAt = at;
    return copyRecord(key);
  }
}
