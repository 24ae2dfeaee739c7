import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ReserveResult, SpendStore } from "../../core/ports/spend.ts";
import { isConditionalCheckFailed, putIfAbsent } from "./dynamo.ts";

/** Day counters and refund markers outlive their day by this much (TTL `expireAt`); totals are kept. */
const KEEP_SECONDS = 3 * 24 * 3600;

/**
 * SpendStore on the ledger table (like the rate-limit counters; no new table, no gsi1 keys): `SPEND#<keyId>` /
 * `DAY#<day>` and `SPEND#<keyId>` / `TOTAL`, each raised by one conditional UpdateItem (`n + amount <= limit`), and
 * `SPENDBACK#<refundId>` markers that make a give-back happen once. Two single-item writes rather than a
 * transaction (dynalite has none): the day counter is raised first and taken back when the total refuses, so a
 * counter never passes its limit; a crash between the two leaves the day counter high (refusing early, never
 * overspending).
 */
export class DynamoSpendStore implements SpendStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async reserve(input: Parameters<SpendStore["reserve"]>[0]): Promise<ReserveResult> {
    const { keyId, amount, day, limits } = input;
    if (!(await this.add(keyId, `DAY#${day}`, amount, limits.perDay, dayExpiry(day)))) {
      return { ok: false, limit: "perDay" };
    }
    if (!(await this.add(keyId, "TOTAL", amount, limits.total))) {
      await this.add(keyId, `DAY#${day}`, -amount, undefined, dayExpiry(day));
      return { ok: false, limit: "total" };
    }
    return { ok: true };
  }

  async giveBack(input: Parameters<SpendStore["giveBack"]>[0]): Promise<void> {
    if (input.amount <= 0) return;
    // A refund id gives back once: its marker is written first, and a retry finds it.
    const first = await putIfAbsent(this.db, this.table, {
      pk: `SPENDBACK#${input.refundId}`,
      sk: "SPENDBACK",
      expireAt: dayExpiry(input.day),
    });
    if (!first) return;
    await this.add(input.keyId, `DAY#${input.day}`, -input.amount, undefined, dayExpiry(input.day));
    await this.add(input.keyId, "TOTAL", -input.amount, undefined);
  }

  async spent(keyId: string, day: string): Promise<{ today: number; total: number }> {
    const [today, total] = await Promise.all([this.read(keyId, `DAY#${day}`), this.read(keyId, "TOTAL")]);
    return { today, total };
  }

  private async read(keyId: string, sk: string): Promise<number> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `SPEND#${keyId}`, sk }, ConsistentRead: true }),
    );
    return Math.max(0, Number(out.Item?.n ?? 0));
  }

  /** false: the limit refused it (nothing changed). */
  private async add(keyId: string, sk: string, delta: number, limit: number | undefined, expireAt?: number) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `SPEND#${keyId}`, sk },
          UpdateExpression: expireAt === undefined ? "ADD #n :d" : "SET expireAt = :exp ADD #n :d",
          ...(limit === undefined
            ? {}
            : { ConditionExpression: "(attribute_not_exists(#n) AND :d <= :lim) OR #n <= :room" }),
          ExpressionAttributeNames: { "#n": "n" },
          ExpressionAttributeValues: {
            ":d": delta,
            ...(limit === undefined ? {} : { ":lim": limit, ":room": limit - delta }),
            ...(expireAt === undefined ? {} : { ":exp": expireAt }),
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionalCheckFailed(e)) return false;
      throw e;
    }
  }
}

const dayExpiry = (day: string) => Math.ceil(Date.parse(`${day}T00:00:00Z`) / 1000) + KEEP_SECONDS;
