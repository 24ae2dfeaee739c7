import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { requestSortKey } from "../../core/jobs/list-cursor.ts";
import type { JobRecord } from "../../core/jobs/schema.ts";
import {
  type DiscardOutcome,
  RequestRecord,
  type RequestResult,
  type RequestStore,
} from "../../core/ports/requests.ts";
import { batchGetAll, type Item, isConditionalCheckFailed, itemsOfIndex, putIfAbsent } from "./dynamo.ts";
import { jobItemKeys, jobsAmong, requestPk } from "./jobs-keys.ts";

/**
 * RequestStore on the `jobs` table, item `REQ#<requestId>` / `REQ` (jobs themselves are the JobStore's items); gsi1
 * `ACCTREQ#<accountId>` / `requestSortKey` (keys only) lists an account's requests newest first.
 */
export class DynamoRequestStore implements RequestStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Results are kept this long after the deadline (the ttl attribute; filtered on read where TTL is absent). */
    private readonly retentionMs = 7 * 24 * 3600 * 1000,
  ) {}

  private key(requestId: string) {
    return { pk: requestPk(requestId), sk: "REQ" };
  }

  async create(record: RequestRecord): Promise<boolean> {
    return putIfAbsent(this.db, this.table, {
      ...this.key(record.requestId),
      ...record,
      gsi1pk: accountIndexKey(record.accountId),
      gsi1sk: requestSortKey(record.createdAt, record.requestId),
      expireAt: Math.ceil((record.deadline + this.retentionMs) / 1000),
    });
  }

  async get(requestId: string): Promise<RequestRecord | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: this.key(requestId), ConsistentRead: true }),
    );
    return out.Item ? parseLive(out.Item) : null;
  }

  async getMany(requestIds: readonly string[], options?: { readonly eventually?: boolean }): Promise<RequestRecord[]> {
    const items = await batchGetAll(
      this.db,
      this.table,
      [...new Set(requestIds)].map((id) => this.key(id)),
      { consistentRead: options?.eventually !== true },
    );
    return items.flatMap((item) => parseLive(item) ?? []);
  }

  async getWithJobs(
    requestId: string,
    jobIds: readonly string[],
    options?: { readonly eventually?: boolean },
  ): Promise<{ record: RequestRecord | null; jobs: JobRecord[] }> {
    // A paid request's jobs are one item beside its record (jobs-keys.ts): the request and its jobs are two items.
    const items = await batchGetAll(this.db, this.table, [this.key(requestId), ...jobItemKeys(jobIds)], {
      consistentRead: options?.eventually !== true,
    });
    const own = this.key(requestId);
    const request = items.find((item) => item.pk === own.pk && item.sk === own.sk);
    return {
      record: request ? parseLive(request) : null,
      // A corrupt job reads as absent, as the JobStore's getMany reads it (which also logs it).
      jobs: jobsAmong(items, jobIds, Date.now()),
    };
  }

  async setPhase(
    requestId: string,
    from: readonly RequestRecord["phase"][],
    to: RequestRecord["phase"],
  ): Promise<RequestRecord | null> {
    const values: Record<string, unknown> = { ":to": to };
    from.forEach((p, i) => {
      values[`:f${i}`] = p;
    });
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(requestId),
          UpdateExpression: "SET phase = :to",
          ConditionExpression: `phase IN (${from.map((_, i) => `:f${i}`).join(", ")})`,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      const parsed = RequestRecord.safeParse(out.Attributes);
      return parsed.success ? parsed.data : null;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return null;
      throw e;
    }
  }

  async settle(requestId: string, result: RequestResult): Promise<RequestRecord | null> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(requestId),
          UpdateExpression: "SET #result = :r, phase = :settled",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#result)",
          ExpressionAttributeNames: { "#result": "result" },
          ExpressionAttributeValues: { ":r": result, ":settled": "settled" },
          // The stored record comes back with the write (issue 17: no read after it); only a loser reads.
          ReturnValues: "ALL_NEW",
        }),
      );
      const parsed = RequestRecord.safeParse(out.Attributes);
      if (parsed.success) return parsed.data;
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
    return this.get(requestId);
  }

  async listByAccount(
    accountId: string,
    page: { readonly limit: number; readonly before?: string },
  ): Promise<{ records: RequestRecord[]; next: string | null }> {
    const records: RequestRecord[] = [];
    let before = page.before;
    let exhausted = false;
    // Expired (not yet TTL-deleted) or unparsable items are skipped, so a page may take more than one query.
    while (records.length < page.limit && !exhausted) {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "gsi1",
          KeyConditionExpression: before === undefined ? "gsi1pk = :pk" : "gsi1pk = :pk AND gsi1sk < :before",
          ExpressionAttributeValues: { ":pk": accountIndexKey(accountId), ...(before ? { ":before": before } : {}) },
          ScanIndexForward: false,
          Limit: page.limit - records.length,
        }),
      );
      // The index is keys-only (infra/definitions.ts): the records are read from the table.
      const keys = out.Items ?? [];
      for (const key of keys) before = typeof key.gsi1sk === "string" ? key.gsi1sk : before;
      for (const item of await itemsOfIndex(this.db, this.table, keys)) {
        if (isExpired(item)) continue;
        const parsed = RequestRecord.safeParse(item);
        if (parsed.success) records.push(parsed.data);
      }
      exhausted = out.LastEvaluatedKey === undefined || keys.length === 0;
    }
    return { records, next: exhausted ? null : (before ?? null) };
  }

  async discard(requestId: string): Promise<DiscardOutcome> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: this.key(requestId),
          // Never one a cancel has taken over or one with a result.
          ConditionExpression: "phase IN (:holding, :dispatched) AND attribute_not_exists(#result)",
          ExpressionAttributeNames: { "#result": "result" },
          ExpressionAttributeValues: { ":holding": "holding", ":dispatched": "dispatched" },
        }),
      );
      return "discarded";
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      // Rare (a cancel raced the submit): one strong read tells a kept record from none at all.
      return (await this.get(requestId)) ? "kept" : "absent";
    }
  }
}

/** Item -> record; an expired item (TTL not swept yet) or a corrupt one reads as absent. */
function parseLive(item: Item): RequestRecord | null {
  if (isExpired(item)) return null;
  const parsed = RequestRecord.safeParse(item);
  return parsed.success ? parsed.data : null;
}

/** TTL passed but not swept yet: reads as absent. */
function isExpired(item: Item): boolean {
  return typeof item.expireAt === "number" && item.expireAt * 1000 < Date.now();
}

const accountIndexKey = (accountId: string) => `ACCTREQ#${accountId}`;
