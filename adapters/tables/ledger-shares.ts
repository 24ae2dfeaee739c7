import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { Micro, ShareEntry } from "../../core/billing/schema.ts";
import { shareEntriesOf, validShares } from "../../core/billing/shares.ts";
import type { Ledger, ShareResult } from "../../core/ports/ledger.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";

/**
 * Item layout of the fee shares in the `ledger` table (no transactions, single-item conditional writes):
 * - split `SPLIT#<requestId>` / `SPLIT`: the shares of one request as first decided, `status` pending -> applied.
 *   Whoever writes it first decides; a replay applies the stored shares, never its own.
 * - payee balance shards `PAYEE#<payee>#<0..7>` / `PAYEE` (the shard from the request id): earnings `balance` and
 *   the `applied` map entryId -> ms (as on accounts), which makes each credit idempotent: the update is conditional on
 *   the entry not being in the map yet. Sharded because every settle writes the platform and the top experts are
 *   routed most queries: one item each would be a hot key, and its applied map (kept for the retention) would grow
 *   towards DynamoDB's 400 KB item limit eight times sooner. The balance is the sum of the shards.
 * - entry `PAYEE#<payee>` / `ENTRY#<ms:15>#<entryId>`: the payee's journal, deterministic keys.
 * A payee is an ss58 hotkey or "platform", never containing `#`, so the shard keys cannot collide with the journal.
 */
export const splitKey = (requestId: string) => ({ pk: `SPLIT#${requestId}`, sk: "SPLIT" });
export const PAYEE_SHARDS = 8;
export const payeeShardKey = (payee: string, shard: number) => ({ pk: `PAYEE#${payee}#${shard}`, sk: "PAYEE" });
function shardOfRequest(requestId: string): number {
  let h = 0;
  for (let i = 0; i < requestId.length; i++) h = (h * 31 + requestId.charCodeAt(i)) >>> 0;
  return h % PAYEE_SHARDS;
}
const shardKeyOf = (entry: ShareEntry) => payeeShardKey(entry.payee, shardOfRequest(entry.requestId));
const payeeEntryKey = (e: ShareEntry) => ({
  pk: `PAYEE#${e.payee}`,
  sk: `ENTRY#${String(e.at).padStart(15, "0")}#${e.entryId}`,
});

const StoredSplit = z.object({ status: z.enum(["pending", "applied"]), entries: z.array(ShareEntry) });

export class DynamoShares {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Applied markers older than this (relative to the credit's time) are pruned from a payee item. */
    private readonly retentionMs: number,
  ) {}

  async creditShares(input: Parameters<Ledger["creditShares"]>[0]): Promise<ShareResult> {
    if (!validShares(input.shares)) return { ok: false, reason: "invalid" };
    let entries = shareEntriesOf(input);
    let replay = false;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...splitKey(input.requestId), requestId: input.requestId, status: "pending", entries },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      const stored = StoredSplit.safeParse(await this.getItem(splitKey(input.requestId)));
      if (!stored.success) throw new Error(`share split of ${input.requestId} does not parse`);
      if (stored.data.status === "applied") return { ok: true, entries: stored.data.entries, replay: true };
      entries = stored.data.entries;
      replay = true;
    }
    await Promise.all(entries.map((entry) => this.apply(entry)));
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: splitKey(input.requestId),
        UpdateExpression: "SET #status = :applied",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":applied": "applied" },
      }),
    );
    return { ok: true, entries, replay };
  }

  async payeeBalance(payee: string): Promise<number> {
    const shards = await Promise.all(
      Array.from({ length: PAYEE_SHARDS }, (_, shard) => this.getItem(payeeShardKey(payee, shard))),
    );
    return shards.reduce((sum, item) => {
      const parsed = Micro.safeParse(item?.balance ?? 0);
      return sum + (parsed.success ? parsed.data : 0);
    }, 0);
  }

  async shareEntries(payee: string, limit: number): Promise<ShareEntry[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": `PAYEE#${payee}`, ":prefix": "ENTRY#" },
        ScanIndexForward: false,
        Limit: Math.max(1, Math.min(1000, limit)),
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).flatMap((item) => {
      const parsed = ShareEntry.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
  }

  /** Adds one share to its payee once (creating the payee item on its first share), then journals it. */
  private async apply(entry: ShareEntry): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await this.addOnce(entry);
      if (outcome === "missing") {
        await this.createShard(entry);
        continue;
      }
      await this.db.send(new PutCommand({ TableName: this.table, Item: { ...payeeEntryKey(entry), ...entry } }));
      return;
    }
    throw new Error(`payee ${entry.payee} could not be created`);
  }

  private async addOnce(entry: ShareEntry): Promise<"applied" | "already" | "missing"> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: shardKeyOf(entry),
          UpdateExpression: "SET balance = balance + :amount, #applied.#e = :at ADD appliedCount :one",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#applied.#e)",
          ExpressionAttributeNames: { "#applied": "applied", "#e": entry.entryId },
          ExpressionAttributeValues: { ":amount": entry.amount, ":at": entry.at, ":one": 1 },
          ReturnValues: "UPDATED_NEW",
        }),
      );
      if (Number(out.Attributes?.appliedCount ?? 0) % 64 === 0) await this.prune(shardKeyOf(entry), entry.at);
      return "applied";
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      return (await this.getItem(shardKeyOf(entry))) ? "already" : "missing";
    }
  }

  private async createShard(entry: ShareEntry): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...shardKeyOf(entry),
            payee: entry.payee,
            balance: 0,
            applied: {},
            appliedCount: 0,
            createdAt: entry.at,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  /** Drops applied markers past the retention: by then the split item (`applied`) guards against a replay. */
  private async prune(key: { pk: string; sk: string }, now: number): Promise<void> {
    const applied = ((await this.getItem(key))?.applied ?? {}) as Record<string, unknown>;
    const old = Object.entries(applied)
      .filter(([, v]) => typeof v === "number" && v < now - this.retentionMs)
      .map(([k]) => k)
      .slice(0, 100);
    if (old.length === 0) return;
    const names: Record<string, string> = { "#applied": "applied" };
    old.forEach((k, i) => {
      names[`#p${i}`] = k;
    });
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: `REMOVE ${old.map((_, i) => `#applied.#p${i}`).join(", ")}`,
        ExpressionAttributeNames: names,
      }),
    );
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return out.Item;
  }
}
