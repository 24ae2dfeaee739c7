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
    const previous = key.previousHash === undefined ? undefined : this.byHash.get(key.previousHash);
    if (previous && previous.revokedAt === undefined) previous.revokedAt = at;
    return copyRecord(key);
  }

  async rotate(
    keyId: string,
    next: Parameters<KeyStore["rotate"]>[1],
    previousUntil: number,
  ): Promise<{ key: ApiKeyRecord; previous: ApiKeyRecord } | null> {
    const hash = this.hashById.get(keyId);
    const old = hash === undefined ? undefined : this.byHash.get(hash);
    if (!old || old.revokedAt !== undefined || this.byHash.has(next.hash)) return null;
    const key: ApiKeyRecord = {
      ...copyRecord(old),
      hash: next.hash,
      start: next.start,
      rotatedAt: next.at,
      previousHash: old.hash,
      ...(old.webhookSecret === undefined && next.webhookSecret ? { webhookSecret: next.webhookSecret } : {}),
    };
    old.expiresAt = Math.min(old.expiresAt ?? previousUntil, previousUntil);
    this.byHash.set(next.hash, key);
    this.hashById.set(keyId, next.hash);
    return { key: copyRecord(key), previous: copyRecord(old) };
  }

  async list(page: { accountId?: string; limit: number; cursor?: string }) {
    const ids = [...this.hashById.keys()].sort();
    const after = page.cursor ?? "";
    const keys: ApiKeyRecord[] = [];
    let next: string | null = null;
    for (const id of ids) {
      if (id <= after) continue;
      const key = this.byHash.get(this.hashById.get(id) ?? "");
      if (!key || (page.accountId !== undefined && key.accountId !== page.accountId)) continue;
      if (keys.length === page.limit) {
        next = keys.at(-1)?.keyId ?? null;
        break;
      }
      keys.push(copyRecord(key));
    }
    return { keys, next };
  }
}
