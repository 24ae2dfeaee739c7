import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { ApiKeyRecord } from "../../core/keys/schema.ts";
import type { KeyStore } from "../../core/ports/keys.ts";
import { errorName, isConditionalCheckFailed } from "./dynamo.ts";

/**
 * KeyStore on the `keys` table:
 * - `KEY#<sha256>` / `KEY`: the record (the verify path is this one GetItem); gsi1 `ACCT#<accountId>` / `KEY#<keyId>`
 *   lists an account's keys.
 * - `KEYID#<keyId>` / `KEYID`: points at the hash, so keys are managed by id without the secret.
 */
export class DynamoKeyStore implements KeyStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(key: ApiKeyRecord): Promise<boolean> {
    const idItem = { pk: `KEYID#${key.keyId}`, sk: "KEYID", hash: key.hash };
    if (!(await this.putNew(idItem))) return false;
    const created = await this.putNew({
      pk: `KEY#${key.hash}`,
      sk: "KEY",
      ...indexKeys(key),
      ...key,
    });
    if (!created) {
      // A hash collision of 256-bit secrets does not happen; undo the id item so the id stays free.
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: idItem.pk, sk: idItem.sk } }));
    }
    return created;
  }

  async getByHash(hash: string): Promise<ApiKeyRecord | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: `KEY#${hash}`, sk: "KEY" } }));
    if (!out.Item) return null;
    const parsed = ApiKeyRecord.safeParse(out.Item);
    return parsed.success ? parsed.data : null;
  }

  async getById(keyId: string): Promise<ApiKeyRecord | null> {
    const hash = await this.hashOf(keyId);
    return hash === null ? null : this.getByHash(hash);
  }

  async revoke(keyId: string, at: number): Promise<ApiKeyRecord | null> {
    const hash = await this.hashOf(keyId);
    if (hash === null) return null;
    await this.revokeHash(hash, at);
    const key = await this.getByHash(hash);
    // A rotated key's previous secret, still in its grace period, goes with it.
    if (key?.previousHash) await this.revokeHash(key.previousHash, at);
    return key;
  }

  private async revokeHash(hash: string, at: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `KEY#${hash}`, sk: "KEY" },
          UpdateExpression: "SET revokedAt = :at",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(revokedAt)",
          ExpressionAttributeValues: { ":at": at },
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  /**
   * New `KEY#<new hash>` item -> the id item moved to it (conditional on the old hash: one rotation wins) -> the old
   * item's expiry cut to the grace period and its gsi1 keys removed (so account listings show the key once). A
   * crash after the first write leaves an unreachable item whose secret nobody was given.
   */
  async rotate(
    keyId: string,
    next: Parameters<KeyStore["rotate"]>[1],
    previousUntil: number,
  ): Promise<{ key: ApiKeyRecord; previous: ApiKeyRecord } | null> {
    const oldHash = await this.hashOf(keyId);
    const old = oldHash === null ? null : await this.getByHash(oldHash);
    if (!old || oldHash === null || old.revokedAt !== undefined) return null;
    const key: ApiKeyRecord = {
      ...old,
      hash: next.hash,
      start: next.start,
      rotatedAt: next.at,
      previousHash: oldHash,
      ...(old.webhookSecret === undefined && next.webhookSecret ? { webhookSecret: next.webhookSecret } : {}),
    };
    if (!(await this.putNew({ pk: `KEY#${key.hash}`, sk: "KEY", ...indexKeys(key), ...key }))) return null;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `KEYID#${keyId}`, sk: "KEYID" },
          UpdateExpression: "SET #hash = :new",
          ConditionExpression: "#hash = :old",
          ExpressionAttributeNames: { "#hash": "hash" },
          ExpressionAttributeValues: { ":new": key.hash, ":old": oldHash },
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: `KEY#${key.hash}`, sk: "KEY" } }));
      return null;
    }
    const expiresAt = Math.min(old.expiresAt ?? previousUntil, previousUntil);
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `KEY#${oldHash}`, sk: "KEY" },
        UpdateExpression: "SET expiresAt = :exp REMOVE gsi1pk, gsi1sk",
        ExpressionAttributeValues: { ":exp": expiresAt },
      }),
    );
    return { key, previous: { ...old, expiresAt } };
  }

  /**
   * One account's keys through gsi1 (by key id), or every key by a scan of the current records (those with gsi1
   * keys: a rotated-out record has none). The cursor is the JSON of DynamoDB's LastEvaluatedKey, checked on the way in.
   */
  async list(page: { accountId?: string; limit: number; cursor?: string }) {
    let start: Record<string, string> | undefined;
    if (page.cursor !== undefined) {
      try {
        start = ListCursor.parse(JSON.parse(page.cursor));
      } catch {
        return { keys: [], next: null };
      }
    }
    // A cursor of the other listing (index keys or not) is refused by DynamoDB: read as the end, like any bad cursor.
    if (start !== undefined && (start.gsi1pk === undefined) !== (page.accountId === undefined)) {
      return { keys: [], next: null };
    }
    const keys: ApiKeyRecord[] = [];
    let next: Record<string, unknown> | undefined = start;
    do {
      const common = { TableName: this.table, Limit: page.limit - keys.length, ExclusiveStartKey: next };
      const out: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } =
        await (page.accountId === undefined
          ? this.db.send(
              new ScanCommand({
                ...common,
                FilterExpression: "sk = :key AND attribute_exists(gsi1pk)",
                ExpressionAttributeValues: { ":key": "KEY" },
              }),
            )
          : this.db.send(
              new QueryCommand({
                ...common,
                IndexName: "gsi1",
                KeyConditionExpression: "gsi1pk = :pk AND begins_with(gsi1sk, :key)",
                ExpressionAttributeValues: { ":pk": `ACCT#${page.accountId}`, ":key": "KEY#" },
              }),
            )
        ).catch((e: unknown): { Items?: undefined; LastEvaluatedKey?: undefined } => {
          // A start key from another partition (a cursor of another account): the end of this listing.
          if (errorName(e) === "ValidationException" && next !== undefined) return {};
          throw e;
        });
      for (const item of out.Items ?? []) {
        const parsed = ApiKeyRecord.safeParse(item);
        if (parsed.success) keys.push(parsed.data);
      }
      next = out.LastEvaluatedKey;
    } while (next !== undefined && keys.length < page.limit);
    return { keys, next: next === undefined ? null : JSON.stringify(next) };
  }

  private async hashOf(keyId: string): Promise<string | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `KEYID#${keyId}`, sk: "KEYID" }, ConsistentRead: true }),
    );
    const hash = out.Item?.hash;
    return typeof hash === "string" ? hash : null;
  }

  private async putNew(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw e;
    }
  }
}

const indexKeys = (key: ApiKeyRecord) => ({ gsi1pk: `ACCT#${key.accountId}`, gsi1sk: `KEY#${key.keyId}` });

/** A LastEvaluatedKey of this table or its gsi1: a few short strings. */
const ListCursor = z.strictObject({
  pk: z.string().min(1).max(300),
  sk: z.string().min(1).max(300),
  gsi1pk: z.string().min(1).max(300).optional(),
  gsi1sk: z.string().min(1).max(300).optional(),
});
