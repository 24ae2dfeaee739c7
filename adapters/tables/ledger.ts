import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { entryIds } from "../../core/billing/hold-state.ts";
import { MAX_ACCOUNT_BALANCE } from "../../core/billing/limits.ts";
import type { Account, Hold, LedgerEntry, ShareEntry } from "../../core/billing/schema.ts";
import type {
  CaptureSplit,
  CreditResult,
  HoldRef,
  HoldResult,
  Ledger,
  SettleResult,
  ShareResult,
  SweepOptions,
  SweepReport,
} from "../../core/ports/ledger.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";
import { DynamoHolds, type RollupStep } from "./ledger-holds.ts";
import {
  accountKey,
  creditKey,
  entryKey,
  getItems,
  HOLD_ENTRY_PREFIX,
  holdKey,
  LedgerFullError,
  MAX_APPLIED,
  markApplied,
  PRUNE_EVERY,
  parseAccount,
  parseEntry,
  parseHold,
  parseMarker,
  removeMarkers,
} from "./ledger-items.ts";
import { migrateLegacyHold } from "./ledger-legacy.ts";
import { OPEN_MARKER_PREFIX, OpenMarker } from "./ledger-open-marker.ts";
import { DynamoShares } from "./ledger-shares.ts";

export interface DynamoLedgerOptions {
  readonly db: DynamoDBDocumentClient;
  /** Physical name of the `ledger` table. */
  readonly table: string;
  /**
   * Credit markers (once their CREDIT item is applied), and the hold markers and tombstones accounts kept before
   * holds moved onto them (ledger-holds.ts), older than this are pruned from the account item. Default 1 h.
   */
  readonly appliedRetentionMs?: number;
  /**
   * Payee markers of applied splits and finished rollup batches older than this are pruned. It only guards a
   * retry stalled since before the sequence finished; it bounds the payee items: ~one marker per batch or split in
   * this window.
   * Default 2 min.
   */
  readonly settledRetentionMs?: number;
  /** Settled holds on one account that make a settle roll them up (ledger-holds.ts). Default ROLLUP_AT. */
  readonly rollupAt?: number;
  /**
   * Holds (or settlements) of one account that share one write at most, while another is in flight from this
   * process (ledger-account-writes.ts). Default ACCOUNT_GROUP_MAX; 1 writes each alone.
   */
  readonly groupMax?: number;
  /** Test hook: throw after the named step to simulate a crash between two writes. */
  readonly crashAfter?: (step: CrashStep) => boolean;
}

export type CrashStep = "creditIntent" | "credited" | RollupStep;

/** What `sweepHolds` returns here: the port's report plus holds whose sweep threw (retried on the next sweep). */
export interface DynamoSweepReport extends SweepReport {
  readonly failed: number;
}

export { LedgerFullError } from "./ledger-items.ts";

export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash";
}

const isConditionFailure = isConditionalCheckFailed;

/**
 * A time as the account item keeps it. Its open holds, settlements, rollup batch and open-hold marker are read back
 * as whole milliseconds (schemas in ledger-holds.ts, ledger-open-marker.ts): a hold made at a fractional time was
 * debited and then never found (nor released, nor rolled up), its marker could not be read (the sweeper skipped the
 * account), a rollup batch started at one and left in flight by a crash could not be finished (the account's rollups
 * stopped for good), and a settle at one was refused.
 */
const wholeMs = (t: number) => Math.floor(t);

/**
 * Ledger on DynamoDB with single-item conditional writes only (dynalite has no transactions). See
 * ledger-items.ts for the layout. A hold is one write on the account item (and one read of the hold id's durable
 * record), a settlement one write on the account item with its fee split; settled holds are rolled up in batches
 * (ledger-holds.ts). A top-up is: CREDIT item `pending` -> account credit (idempotent by entry id) -> journal ->
 * CREDIT `applied`. `sweepHolds` finishes any sequence a crash interrupted.
 */
export class DynamoLedger implements Ledger {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly retentionMs: number;
  private readonly settledRetentionMs: number;
  private readonly crashAfter: NonNullable<DynamoLedgerOptions["crashAfter"]>;
  private readonly shares: DynamoShares;
  private readonly holds: DynamoHolds;

  constructor(options: DynamoLedgerOptions) {
    this.db = options.db;
    this.table = options.table;
    this.retentionMs = options.appliedRetentionMs ?? 3_600_000;
    this.settledRetentionMs = options.settledRetentionMs ?? 120_000;
    this.crashAfter = options.crashAfter ?? (() => false);
    this.shares = new DynamoShares(this.db, this.table, this.settledRetentionMs);
    this.holds = new DynamoHolds({
      db: this.db,
      table: this.table,
      shares: this.shares,
      ...(options.rollupAt !== undefined ? { rollupAt: options.rollupAt } : {}),
      ...(options.groupMax !== undefined ? { groupMax: options.groupMax } : {}),
      // Well inside the payee markers' retention: a finisher stalled that long checks its batch before crediting.
      staleAfterMs: this.settledRetentionMs / 4,
      crash: (step) => this.maybeCrash(step),
    });
  }

  /** Resolves once the rollups this instance's settles started in the background have ended. */
  drain(): Promise<void> {
    return this.holds.drain();
  }

  async openAccount(accountId: string, name: string, at: number): Promise<Account> {
    const account: Account = { accountId, name, balance: 0, held: 0, spent: 0, createdAt: at };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...accountKey(accountId), ...account, applied: {}, appliedCount: 0, holds: {}, settled: {} },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return account;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const existing = await this.getAccount(accountId);
      if (!existing) throw new Error(`account ${accountId} exists but does not parse`);
      return existing;
    }
  }

  async getAccount(accountId: string): Promise<Account | null> {
    return parseAccount(await this.getItem(accountKey(accountId)));
  }

  async credit(input: Parameters<Ledger["credit"]>[0]): Promise<CreditResult> {
    if (input.amount > MAX_ACCOUNT_BALANCE) return { ok: false, reason: "limit" };
    if (!(await this.getAccount(input.accountId))) return { ok: false, reason: "no_account" };
    const intent = {
      accountId: input.accountId,
      entryId: input.entryId,
      amount: input.amount,
      at: input.at,
      fingerprint: input.fingerprint ?? "",
      memo: input.memo ?? "",
    };
    let current = intent;
    let replay = false;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...creditKey(input.entryId), ...intent, status: "pending" },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const stored = await this.getItem(creditKey(input.entryId));
      if (!stored || stored.accountId !== intent.accountId || stored.fingerprint !== intent.fingerprint) {
        return { ok: false, reason: "conflict" };
      }
      // Resume with the stored intent: its amount and time, not this call's.
      current = { ...intent, amount: Number(stored.amount), at: Number(stored.at) };
      replay = true;
      // Applied before: the account's marker may be pruned by now, so never touch the account again.
      if (stored.status === "applied") {
        const account = await this.getAccount(current.accountId);
        return account
          ? { ok: true, account, entry: this.creditEntry(current), replay: true }
          : { ok: false, reason: "no_account" };
      }
    }
    this.maybeCrash("creditIntent");
    // The cap is part of the same conditional write (DynamoDB conditions have no arithmetic: the room left is
    // computed here), so racing top-ups cannot together pass it.
    const applied = await this.applyToAccount(
      current.accountId,
      current.entryId,
      "SET balance = balance + :amount",
      { ":amount": current.amount, ":room": MAX_ACCOUNT_BALANCE - current.amount },
      current.at,
      { extraCondition: "balance <= :room" },
    );
    if (applied === "missing") return { ok: false, reason: "no_account" };
    if (applied === "refused") {
      // Nothing was credited: drop the intent so the same Idempotency-Key can be used again later.
      await this.forgetPendingCredit(current.entryId);
      return { ok: false, reason: "limit" };
    }
    this.maybeCrash("credited");
    const entry = this.creditEntry(current);
    await this.putEntry(entry);
    await markApplied(this.db, this.table, creditKey(current.entryId));
    const account = await this.getAccount(current.accountId);
    if (!account) return { ok: false, reason: "no_account" };
    return { ok: true, account, entry, replay: replay || applied === "already" };
  }

  private async forgetPendingCredit(entryId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: creditKey(entryId),
          ConditionExpression: "#status = :pending",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":pending": "pending" },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  private creditEntry(c: { accountId: string; entryId: string; amount: number; at: number; memo: string }) {
    const entry: LedgerEntry = {
      entryId: c.entryId,
      accountId: c.accountId,
      kind: "credit",
      amount: c.amount,
      at: c.at,
      ...(c.memo ? { memo: c.memo } : {}),
    };
    return entry;
  }

  /**
   * Times go onto the account item in whole milliseconds (see `wholeMs`): the deadline rounded up, so that a hold
   * never expires before the caller said.
   */
  hold(input: Parameters<Ledger["hold"]>[0]): Promise<HoldResult> {
    return this.holds.hold({ ...input, at: wholeMs(input.at), deadline: Math.ceil(input.deadline) });
  }

  capture(ref: HoldRef, amount: number, at: number, split?: CaptureSplit): Promise<SettleResult> {
    return this.holds.settle(ref, "capture", amount, wholeMs(at), split);
  }

  release(ref: HoldRef, at: number): Promise<SettleResult> {
    return this.holds.settle(ref, "release", 0, wholeMs(at));
  }

  getHold(ref: HoldRef): Promise<Hold | null> {
    return this.holds.find(ref);
  }

  openHolds(accountId: string): Promise<Hold[]> {
    return this.holds.openHolds(accountId);
  }

  /**
   * Credits from their journal items, holds from the account item while on it and from their durable records once
   * rolled up (ledger-holds.ts). Those records are read through an index, so a hold rolled up a moment ago may be
   * missing for the index's propagation delay (sub-second on DynamoDB; none on dynalite).
   */
  async entries(accountId: string, limit: number): Promise<LedgerEntry[]> {
    const n = Math.max(1, Math.min(1000, limit));
    const [journal, archived, current] = await Promise.all([
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": accountKey(accountId).pk, ":prefix": "ENTRY#" },
          ScanIndexForward: false,
          Limit: n,
          ConsistentRead: true,
        }),
      ),
      this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :pk",
          ExpressionAttributeValues: { ":pk": `JOURNAL#${accountId}` },
          ScanIndexForward: false,
          Limit: n,
        }),
      ),
      this.holds.unarchived(accountId),
    ]);
    const holds = [...(archived.Items ?? []).flatMap((item) => parseHold(item) ?? []), ...current];
    const all = new Map<string, LedgerEntry>();
    for (const e of [...(journal.Items ?? []).flatMap((item) => parseEntry(item) ?? []), ...holds.flatMap(holdEntries)])
      all.set(e.entryId, e);
    return [...all.values()].sort((a, b) => b.at - a.at || (a.entryId < b.entryId ? 1 : -1)).slice(0, n);
  }

  creditShares(input: Parameters<Ledger["creditShares"]>[0]): Promise<ShareResult> {
    return this.shares.creditShares(input);
  }

  payeeBalance(payee: string): Promise<number> {
    return this.shares.payeeBalance(payee);
  }

  shareEntries(payee: string, limit: number): Promise<ShareEntry[]> {
    return this.shares.shareEntries(payee, limit);
  }

  async sweepHolds(at: number, options: SweepOptions = {}): Promise<DynamoSweepReport> {
    const now = wholeMs(at);
    const report = { examined: 0, cancelled: 0, released: 0, finished: 0, failed: 0 };
    for (const pk of DynamoHolds.indexShards()) {
      const items = await this.queryAll({
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": pk },
      });
      for (const item of items) {
        const key = typeof item.pk === "string" ? item.pk : "";
        // One account (or hold) that cannot be swept (a throttle, a bad item) must not stop the others; it is
        // retried on the next sweep.
        try {
          if (key.startsWith("ACCT#")) await this.holds.sweepAccount(key.slice("ACCT#".length), now, options, report);
          else if (key.startsWith(OPEN_MARKER_PREFIX)) {
            const marker = OpenMarker.parse(item);
            await this.holds.sweepAccount(key.slice(OPEN_MARKER_PREFIX.length), now, options, report, marker);
          } else if (key.startsWith("HOLD#")) {
            const deps = { db: this.db, table: this.table, holds: this.holds };
            const outcome = await migrateLegacyHold(deps, key.slice("HOLD#".length), now, options);
            if (outcome !== "skipped") report.finished++;
          }
        } catch {
          report.failed++;
        }
      }
    }
    return report;
  }

  /**
   * One conditional update of the account that also records `entryId` in its applied map. `update` "" only
   * records the marker (a tombstone when `marker` is a `voidMarker`). `capped`: refuse (LedgerFullError) rather
   * than grow the map past MAX_APPLIED, after one prune.
   * Returns applied | already (the entry was applied before) | voided (a tombstone holds the id) | refused (the
   * extra condition failed) | missing (no account).
   */
  private async applyToAccount(
    accountId: string,
    entryId: string,
    update: string,
    values: Record<string, unknown>,
    marker: number | string,
    options: { readonly extraCondition?: string; readonly capped?: boolean } = {},
  ): Promise<"applied" | "already" | "voided" | "refused" | "missing"> {
    const set = update === "" ? "SET #applied.#e = :marker" : `${update}, #applied.#e = :marker`;
    const condition = [
      "attribute_exists(pk)",
      "attribute_not_exists(#applied.#e)",
      ...(options.extraCondition ? [options.extraCondition] : []),
      ...(options.capped ? ["size(#applied) < :cap"] : []),
    ].join(" AND ");
    const now = typeof marker === "number" ? marker : (parseMarker(marker)?.at ?? 0);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.updateAccount(accountId, now, {
          UpdateExpression: `${set} ADD appliedCount :one`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { "#applied": "applied", "#e": entryId },
          ExpressionAttributeValues: {
            ...values,
            ":marker": marker,
            ...(options.capped ? { ":cap": MAX_APPLIED } : {}),
          },
        });
        return "applied";
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        const item = await this.getItem(accountKey(accountId));
        if (!item) return "missing";
        const applied = (item.applied ?? {}) as Record<string, unknown>;
        const mark = applied[entryId];
        if (mark !== undefined) return parseMarker(mark)?.kind === "void" ? "voided" : "already";
        if (!options.capped || Object.keys(applied).length < MAX_APPLIED) return "refused";
        if (attempt > 0) {
          throw new LedgerFullError(
            `account ${accountId} has ${Object.keys(applied).length} unfinished ledger movements; retry later`,
          );
        }
        await this.prune(accountId, item, now).catch(() => undefined);
      }
    }
  }

  /** One update of the account (its `ADD appliedCount :one` counts writes); every PRUNE_EVERY writes, prunes. */
  private async updateAccount(
    accountId: string,
    now: number,
    params: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues: Record<string, unknown>;
    },
  ): Promise<void> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: accountKey(accountId),
        ...params,
        ExpressionAttributeValues: { ...params.ExpressionAttributeValues, ":one": 1 },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const count = Number(out.Attributes?.appliedCount ?? 0);
    if (count % PRUNE_EVERY !== 0) return;
    // The write is done; a failed prune only delays the cleanup to the next one.
    await this.getItem(accountKey(accountId))
      .then((item) => this.prune(accountId, item, now))
      .catch(() => undefined);
  }

  /**
   * Drops the markers no sequence needs any more (see `Marker`): settled holds after the settled retention;
   * tombstones after the applied retention once their hold is no longer pending; credits after the applied
   * retention once their CREDIT item is applied. Debits of holds not yet settled are never pruned.
   */
  private async prune(accountId: string, item: Record<string, unknown> | undefined, now: number): Promise<void> {
    const applied = (item?.applied ?? {}) as Record<string, unknown>;
    const drop: string[] = [];
    const checkHold: string[] = [];
    const checkCredit: string[] = [];
    for (const [entryId, value] of Object.entries(applied)) {
      const mark = parseMarker(value);
      if (!mark) continue;
      const isHold = entryId.startsWith(HOLD_ENTRY_PREFIX);
      if (mark.kind === "settled" && mark.at < now - this.settledRetentionMs) drop.push(entryId);
      else if (mark.kind === "void" && mark.at < now - this.retentionMs) checkHold.push(entryId);
      else if (mark.kind === "applied" && !isHold && mark.at < now - this.retentionMs) checkCredit.push(entryId);
    }
    const holdId = (entryId: string) => entryId.slice(HOLD_ENTRY_PREFIX.length);
    const owners = await getItems(this.db, this.table, [
      ...checkHold.map((e) => holdKey(holdId(e))),
      ...checkCredit.map((e) => creditKey(e)),
    ]);
    for (const entryId of checkHold) {
      const owner = owners.get(holdKey(holdId(entryId)).pk);
      // null: the hold was deleted after a refused debit, so nothing can debit through it. undefined: unknown.
      if (owner === null || (owner !== undefined && owner.status !== "pending")) drop.push(entryId);
    }
    for (const entryId of checkCredit) {
      if (owners.get(creditKey(entryId).pk)?.status === "applied") drop.push(entryId);
    }
    if (drop.length > 0) await removeMarkers(this.db, this.table, accountKey(accountId), drop);
  }

  private async putEntry(entry: LedgerEntry): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...entryKey(entry), ...entry } }));
  }

  private async getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return out.Item;
  }

  private async queryAll(params: {
    IndexName: string;
    KeyConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
  }): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({ TableName: this.table, ...params, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private maybeCrash(step: CrashStep): void {
    if (this.crashAfter(step)) throw new SimulatedCrash(step);
  }
}

/** The journal entries of a hold: its debit, then what its settlement captured and gave back. */
function holdEntries(hold: Hold): LedgerEntry[] {
  const base = { accountId: hold.accountId, holdId: hold.holdId };
  const entries: LedgerEntry[] = [
    { ...base, entryId: entryIds.hold(hold.holdId), kind: "hold", amount: hold.amount, at: hold.createdAt },
  ];
  if (hold.settledAt === undefined || (hold.status !== "captured" && hold.status !== "released")) return entries;
  const charged = hold.status === "captured" ? (hold.captureAmount ?? 0) : 0;
  const at = hold.settledAt;
  if (charged > 0)
    entries.push({ ...base, entryId: entryIds.capture(hold.holdId), kind: "capture", amount: charged, at });
  const back = hold.amount - charged;
  if (back > 0) entries.push({ ...base, entryId: entryIds.release(hold.holdId), kind: "release", amount: back, at });
  return entries;
}
