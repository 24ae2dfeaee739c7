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
import { getItems, LedgerFullError, MAX_APPLIED, markApplied, PRUNE_EVERY, removeMarkers } from "./ledger-items.ts";

/**
 * Item layout of the fee shares in the `ledger` table (no transactions, single-item conditional writes):
 * - split `SPLIT#<requestId>` / `SPLIT`: the shares of one request as first decided, `status` pending -> applied.
 *   Whoever writes it first decides; a replay applies the stored shares, never its own.
 * - payee balance shards `PAYEE#<payee>#<0..7>` / `PAYEE` (the shard from the request id): earnings `balance` and
 *   the `applied` map entryId -> ms (as on accounts), which makes each credit idempotent: the update is conditional on
 *   the entry not being in the map yet. A marker is needed only while its split is `pending`; once the split is
 *   `applied` (a replay then returns before touching any shard), the marker is pruned after the retention, which
 *   only guards a replay stalled since before the split was marked. So a shard holds ~the markers of that window,
 *   whatever the traffic. Sharded because every settle writes the platform and the top experts are routed most
 *   queries: one item each would be a hot key. The balance is the sum of the shards.
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

/**
 * The request of a share entry id `share:<requestId>:<payee>`. Payees never contain `:` (base58 or "platform"); if
 * one did, the lookup finds no split and the marker is kept, which is safe.
 */
function requestIdOf(entryId: string): string | null {
  const end = entryId.lastIndexOf(":");
  return entryId.startsWith("share:") && end > "share:".length ? entryId.slice("share:".length, end) : null;
}

const StoredSplit = z.object({ status: z.enum(["pending", "applied"]), entries: z.array(ShareEntry) });

export class DynamoShares {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Markers of applied splits older than this (relative to the credit's time) are pruned from a shard. */
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
    await markApplied(this.db, this.table, splitKey(input.requestId));
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
    const key = shardKeyOf(entry);
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: "SET balance = balance + :amount, #applied.#e = :at ADD appliedCount :one",
            ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#applied.#e) AND size(#applied) < :cap",
            ExpressionAttributeNames: { "#applied": "applied", "#e": entry.entryId },
            ExpressionAttributeValues: { ":amount": entry.amount, ":at": entry.at, ":one": 1, ":cap": MAX_APPLIED },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        if (Number(out.Attributes?.appliedCount ?? 0) % PRUNE_EVERY === 0) {
          // The credit is done; a failed prune only delays the cleanup to the next one.
          await this.prune(key, await this.getItem(key), entry.at).catch(() => undefined);
        }
        return "applied";
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw e;
        const item = await this.getItem(key);
        if (!item) return "missing";
        const applied = (item.applied ?? {}) as Record<string, unknown>;
        if (applied[entry.entryId] !== undefined) return "already";
        // Full: prune once; if still full the split stays pending and a replay of the settle finishes it.
        if (attempt > 0) throw new LedgerFullError(`payee shard ${key.pk} has ${MAX_APPLIED} unfinished credits`);
        await this.prune(key, item, entry.at).catch(() => undefined);
      }
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

  /** Drops markers past the retention whose split is `applied`: the split item then answers any replay. */
  private async prune(key: { pk: string; sk: string }, item: Record<string, unknown> | undefined, now: number) {
    const applied = (item?.applied ?? {}) as Record<string, unknown>;
    const old = Object.entries(applied)
      .filter(([, v]) => typeof v === "number" && v < now - this.retentionMs)
      .map(([entryId]) => ({ entryId, requestId: requestIdOf(entryId) }));
    const splits = await getItems(
      this.db,
      this.table,
      old.flatMap((o) => (o.requestId === null ? [] : [splitKey(o.requestId)])),
    );
    const drop = old
      .filter((o) => o.requestId !== null && splits.get(splitKey(o.requestId).pk)?.status === "applied")
      .map((o) => o.entryId);
    if (drop.length > 0) await removeMarkers(this.db, this.table, key, drop);
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return out.Item;
  }
}
