import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { Micro, ShareEntry } from "../../core/billing/schema.ts";
import { newestFirst, shareEntriesOf, validShares } from "../../core/billing/shares.ts";
import type { Ledger, ShareResult } from "../../core/ports/ledger.ts";
import { batchPutAll, isConditionalCheckFailed } from "./dynamo.ts";
import {
  accountKey,
  getItems,
  LedgerFullError,
  MAX_APPLIED,
  markApplied,
  PRUNE_EVERY,
  removeMarkers,
} from "./ledger-items.ts";

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

/** A rollup batch's marker on a payee shard: when, and which account's `rollup` says whether it is finished. */
const BatchMarker = z.object({ at: z.number(), accountId: z.string() });

/** The id of the rollup batch an account item has in flight, if any. */
export function inFlightBatch(account: Record<string, unknown>): string | undefined {
  const rollup = account.rollup as { id?: unknown } | undefined;
  return typeof rollup?.id === "string" ? rollup.id : undefined;
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
    // A rollup batch's page holds several entries; its key's time is the batch's, at or after its entries'.
    const entries = (out.Items ?? []).flatMap((item) => {
      const parsed = Array.isArray(item.page) ? z.array(ShareEntry).safeParse(item.page) : ShareEntry.safeParse(item);
      return parsed.success ? [parsed.data].flat() : [];
    });
    return entries.sort(newestFirst).slice(0, Math.max(0, limit));
  }

  /** Adds one share to its payee once (creating the payee item on its first share), then journals it. */
  private async apply(entry: ShareEntry): Promise<void> {
    await this.addToPayee(
      shardKeyOf(entry),
      entry.payee,
      { id: entry.entryId, value: entry.at },
      entry.amount,
      entry.at,
    );
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...payeeEntryKey(entry), ...entry } }));
  }

  /**
   * Credits one rollup batch of an account's settled holds (ledger-holds.ts) to its payees: per payee one
   * balance update, idempotent by the batch id (its marker records the account, whose `rollup` attribute says
   * when the batch is finished and the marker may go), then every payee's journal page with the batch's entries
   * in one BatchWriteItem (plain puts with deterministic keys: a rerun of the batch writes the same pages). A page
   * follows its credit; if a credit fails, the batch stays in flight and its rerun writes the pages.
   */
  async creditBatch(batch: { id: string; accountId: string; at: number }, entries: readonly ShareEntry[]) {
    const byPayee = new Map<string, ShareEntry[]>();
    for (const e of entries) byPayee.set(e.payee, [...(byPayee.get(e.payee) ?? []), e]);
    const shard = shardOfRequest(batch.id);
    const marker = { id: batch.id, value: { at: batch.at, accountId: batch.accountId } };
    await Promise.all(
      [...byPayee].map(([payee, own]) => {
        const amount = own.reduce((sum, e) => sum + e.amount, 0);
        return this.addToPayee(payeeShardKey(payee, shard), payee, marker, amount, batch.at);
      }),
    );
    const sk = `ENTRY#${String(batch.at).padStart(15, "0")}#${batch.id}`;
    await batchPutAll(
      this.db,
      this.table,
      [...byPayee].map(([payee, own]) => ({ pk: `PAYEE#${payee}`, sk, payee, page: own })),
    );
  }

  private async addToPayee(
    key: { pk: string; sk: string },
    payee: string,
    marker: { id: string; value: unknown },
    amount: number,
    at: number,
  ): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await this.addOnce(key, marker, amount, at);
      if (outcome !== "missing") return;
      await this.createShard(key, payee, at);
    }
    throw new Error(`payee ${payee} could not be created`);
  }

  private async addOnce(
    key: { pk: string; sk: string },
    marker: { id: string; value: unknown },
    amount: number,
    at: number,
  ): Promise<"applied" | "already" | "missing"> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: "SET balance = balance + :amount, #applied.#e = :at ADD appliedCount :one",
            ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(#applied.#e) AND size(#applied) < :cap",
            ExpressionAttributeNames: { "#applied": "applied", "#e": marker.id },
            ExpressionAttributeValues: { ":amount": amount, ":at": marker.value, ":one": 1, ":cap": MAX_APPLIED },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        if (Number(out.Attributes?.appliedCount ?? 0) % PRUNE_EVERY === 0) {
          // The credit is done; a failed prune only delays the cleanup to the next one.
          await this.prune(key, await this.getItem(key), at).catch(() => undefined);
        }
        return "applied";
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw e;
        const item = await this.getItem(key);
        if (!item) return "missing";
        const applied = (item.applied ?? {}) as Record<string, unknown>;
        if (applied[marker.id] !== undefined) return "already";
        // Full: prune once; if still full the split stays pending and a replay of the settle finishes it.
        if (attempt > 0) throw new LedgerFullError(`payee shard ${key.pk} has ${MAX_APPLIED} unfinished credits`);
        await this.prune(key, item, at).catch(() => undefined);
      }
    }
  }

  private async createShard(key: { pk: string; sk: string }, payee: string, at: number): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key, payee, balance: 0, applied: {}, appliedCount: 0, createdAt: at },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  /**
   * Drops markers past the retention whose split is `applied` (the split item then answers any replay), or whose
   * rollup batch is finished (its account no longer names it in `rollup`).
   */
  private async prune(key: { pk: string; sk: string }, item: Record<string, unknown> | undefined, now: number) {
    const applied = (item?.applied ?? {}) as Record<string, unknown>;
    const batches = Object.entries(applied).flatMap(([id, v]) => {
      const parsed = BatchMarker.safeParse(v);
      return parsed.success && parsed.data.at < now - this.retentionMs ? [{ id, ...parsed.data }] : [];
    });
    const accounts = await getItems(
      this.db,
      this.table,
      batches.map((b) => accountKey(b.accountId)),
    );
    const finished = batches
      .filter((b) => {
        const account = accounts.get(accountKey(b.accountId).pk);
        // undefined: unknown (unprocessed), keep. null: the account is gone, nothing can finish the batch again.
        return account === null || (account !== undefined && inFlightBatch(account) !== b.id);
      })
      .map((b) => b.id);
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
    drop.push(...finished);
    if (drop.length > 0) await removeMarkers(this.db, this.table, key, drop);
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return out.Item;
  }
}
