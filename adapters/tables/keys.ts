import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { ApiKeyRecord } from "../../core/keys/schema.ts";
import type { KeyStore } from "../../core/ports/keys.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";

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
      gsi1pk: `ACCT#${key.accountId}`,
      gsi1sk: `KEY#${key.keyId}`,
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
    return this.getByHash(hash);
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
