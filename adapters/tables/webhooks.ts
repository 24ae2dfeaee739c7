import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { WebhookDelivery, type WebhookOutbox } from "../../core/ports/webhooks.ts";
import { isConditionalCheckFailed, itemsOfIndex, putIfAbsent } from "./dynamo.ts";

/** Delivered and failed messages are kept this long (TTL `expireAt`), for the receiver's and operator's questions. */
const KEEP_MS = 7 * 24 * 3600 * 1000;
const DUE_INDEX_KEY = "WEBHOOKDUE";
const dueSortKey = (nextAt: number, id: string) => `${String(Math.max(0, nextAt)).padStart(15, "0")}#${id}`;

/**
 * WebhookOutbox on the `jobs` table: `WEBHOOK#<deliveryId>` / `WEBHOOK`; while pending it carries gsi1
 * `WEBHOOKDUE` / `<nextAt>#<id>` (sparse: finished messages leave the index), which `due` reads soonest first.
 */
export class DynamoWebhookOutbox implements WebhookOutbox {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private key(id: string) {
    return { pk: `WEBHOOK#${id}`, sk: "WEBHOOK" };
  }

  async add(d: WebhookDelivery): Promise<boolean> {
    return putIfAbsent(this.db, this.table, {
      ...this.key(d.deliveryId),
      ...d,
      gsi1pk: DUE_INDEX_KEY,
      gsi1sk: dueSortKey(d.nextAt, d.deliveryId),
      expireAt: Math.ceil((d.createdAt + KEEP_MS) / 1000),
    });
  }

  async get(id: string): Promise<WebhookDelivery | null> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: this.key(id), ConsistentRead: true }));
    const parsed = WebhookDelivery.safeParse(out.Item);
    return parsed.success ? parsed.data : null;
  }

  async due(now: number, limit: number): Promise<WebhookDelivery[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk AND gsi1sk <= :now",
        ExpressionAttributeValues: { ":pk": DUE_INDEX_KEY, ":now": dueSortKey(now, "~") },
        Limit: limit,
      }),
    );
    // The index is keys-only (infra/definitions.ts): the deliveries are read from the table, a moment after the
    // index answered. One claimed meanwhile reads with its lease as nextAt and its claimed attempts, which a claim
    // would match: it is due only if the item read says so, not the index.
    return (await itemsOfIndex(this.db, this.table, out.Items ?? [])).flatMap((item) => {
      const parsed = WebhookDelivery.safeParse(item);
      return parsed.success && parsed.data.status === "pending" && parsed.data.nextAt <= now ? [parsed.data] : [];
    });
  }

  async claim(id: string, attempts: number, leaseUntil: number): Promise<WebhookDelivery | null> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(id),
          UpdateExpression: "SET attempts = :next, nextAt = :lease, gsi1sk = :sk",
          ConditionExpression: "#status = :pending AND attempts = :attempts",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":next": attempts + 1,
            ":lease": leaseUntil,
            ":sk": dueSortKey(leaseUntil, id),
            ":pending": "pending",
            ":attempts": attempts,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      const parsed = WebhookDelivery.safeParse(out.Attributes);
      return parsed.success ? parsed.data : null;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return null;
      throw e;
    }
  }

  async record(id: string, outcome: Parameters<WebhookOutbox["record"]>[1]): Promise<void> {
    const base = {
      TableName: this.table,
      Key: this.key(id),
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status" },
    };
    const update =
      outcome.status === "delivered"
        ? {
            UpdateExpression: "SET #status = :to, deliveredAt = :at REMOVE gsi1pk, gsi1sk",
            ExpressionAttributeValues: { ":pending": "pending", ":to": "delivered", ":at": outcome.at },
          }
        : outcome.status === "failed"
          ? {
              UpdateExpression: "SET #status = :to, lastError = :e REMOVE gsi1pk, gsi1sk",
              ExpressionAttributeValues: { ":pending": "pending", ":to": "failed", ":e": outcome.error.slice(0, 300) },
            }
          : {
              UpdateExpression: "SET nextAt = :next, gsi1sk = :sk, lastError = :e",
              ExpressionAttributeValues: {
                ":pending": "pending",
                ":next": outcome.nextAt,
                ":sk": dueSortKey(outcome.nextAt, id),
                ":e": outcome.error.slice(0, 300),
              },
            };
    try {
      await this.db.send(new UpdateCommand({ ...base, ...update }));
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }
}
