import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { FixedWindow, WindowCount } from "../../core/keys/rate-limit.ts";
import type { RateLimitStore } from "../../core/ports/rate-limit.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";

/** Counters outlive their window by this much before DynamoDB's TTL may delete them. */
const TTL_MARGIN_SECONDS = 300;

/**
 * RateLimitStore on the ledger table (it has a TTL attribute; no new table): one item per bucket and window,
 * `RATE#<bucket>` / `W#<lengthMs>#<start>`, incremented by one conditional UpdateItem (`n < capacity`) and expired
 * by TTL (`expireAt`, epoch seconds). No read on the hot path; a refused request writes nothing. The items carry
 * no gsi1 keys, so they never appear in the ledger's index queries. On dynalite (no TTL sweeping) old windows stay
 * until the data folder is removed: one small item per active key per window.
 */
export class DynamoRateLimits implements RateLimitStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async hit(bucket: string, window: FixedWindow, units = 1): Promise<WindowCount> {
    // More than the window holds can never pass (and the condition below would let it through on a new window).
    if (units > window.capacity) return { allowed: false, count: window.capacity };
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `RATE#${bucket}`, sk: `W#${window.lengthMs}#${window.start}` },
          UpdateExpression: "SET expireAt = :exp ADD #n :units",
          ConditionExpression: "attribute_not_exists(#n) OR #n <= :room",
          ExpressionAttributeNames: { "#n": "n" },
          ExpressionAttributeValues: {
            ":units": units,
            ":room": window.capacity - units,
            ":exp": Math.ceil((window.start + window.lengthMs) / 1000) + TTL_MARGIN_SECONDS,
          },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      return { allowed: true, count: Number(out.Attributes?.n ?? 1) };
    } catch (e) {
      if (isConditionalCheckFailed(e)) return { allowed: false, count: window.capacity };
      throw e;
    }
  }
}
