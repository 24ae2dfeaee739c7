import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { entryIds, isOpenHold } from "../../core/billing/hold-state.ts";
import { MAX_ACCOUNT_BALANCE } from "../../core/billing/limits.ts";
import type { Account, Hold, LedgerEntry, ShareEntry } from "../../core/billing/schema.ts";
import type {
  CreditResult,
  HoldResult,
  Ledger,
  SettleResult,
  ShareResult,
  SweepOptions,
  SweepReport,
} from "../../core/ports/ledger.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";
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
  OPEN_SHARDS,
  openIndexKeys,
  PRUNE_EVERY,
  parseAccount,
  parseEntry,
  parseHold,
  parseMarker,
  removeMarkers,
  settledMarker,
  voidMarker,
} from "./ledger-items.ts";
import { DynamoShares } from "./ledger-shares.ts";

export interface DynamoLedgerOptions {
  readonly db: DynamoDBDocumentClient;
  /** Physical name of the `ledger` table. */
  readonly table: string;
  /** A pending hold older than this is presumed abandoned by a crashed writer. Default 60 s. */
  readonly pendingGraceMs?: number;
  /**
   * Credit markers (once their CREDIT item is applied) and sweeper tombstones (once their hold is no longer
   * pending) older than this are pruned from the account item. Default 1 h.
   */
  readonly appliedRetentionMs?: number;
  /**
   * Markers of settled holds, and payee markers of applied splits, older than this are pruned. It only guards a
   * retry stalled since before the sequence finished; it bounds the item: ~one marker per hold in this window.
   * Default 2 min.
   */
  readonly settledRetentionMs?: number;
  /** Test hook: throw after the named step to simulate a crash between two writes. */
  readonly crashAfter?: (step: CrashStep) => boolean;
}

export type CrashStep = "holdCreated" | "debited" | "settleDecided" | "accountSettled" | "creditIntent" | "credited";

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
 * Ledger on DynamoDB with single-item conditional writes only (dynalite has no transactions). See
 * ledger-items.ts for the layout. A hold is three writes: hold item `pending` -> account debit (conditional on the
 * balance and on the entry not being applied yet; it leaves the marker `hold:<id>` = ms) -> hold `held`. A
 * settlement is: hold `capturing`/`releasing` with the amount (the decision) -> account update (conditional on that
 * marker still being a number, which it turns into "settled") -> journal -> hold terminal. A top-up is: CREDIT item
 * `pending` -> account credit (idempotent by entry id) -> journal -> CREDIT `applied`.
 * `sweepHolds` finishes any sequence a crash interrupted.
 */
export class DynamoLedger implements Ledger {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly graceMs: number;
  private readonly retentionMs: number;
  private readonly settledRetentionMs: number;
  private readonly crashAfter: NonNullable<DynamoLedgerOptions["crashAfter"]>;
  private readonly shares: DynamoShares;

  constructor(options: DynamoLedgerOptions) {
    this.db = options.db;
    this.table = options.table;
    this.graceMs = options.pendingGraceMs ?? 60_000;
    this.retentionMs = options.appliedRetentionMs ?? 3_600_000;
    this.settledRetentionMs = options.settledRetentionMs ?? 120_000;
    this.crashAfter = options.crashAfter ?? (() => false);
    this.shares = new DynamoShares(this.db, this.table, this.settledRetentionMs);
  }

  async openAccount(accountId: string, name: string, at: number): Promise<Account> {
    const account: Account = { accountId, name, balance: 0, held: 0, spent: 0, createdAt: at };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...accountKey(accountId), ...account, applied: {}, appliedCount: 0 },
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

  async hold(input: Parameters<Ledger["hold"]>[0]): Promise<HoldResult> {
    const fresh: Hold = {
      holdId: input.holdId,
      accountId: input.accountId,
      amount: input.amount,
      status: "pending",
      deadline: input.deadline,
      createdAt: input.at,
      ...(input.memo ? { memo: input.memo } : {}),
    };
    let hold = fresh;
    let replay = false;
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...holdKey(fresh.holdId), ...fresh, ...openIndexKeys(fresh) },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const stored = await this.getHold(input.holdId);
      if (!stored || stored.accountId !== input.accountId || stored.amount !== input.amount) {
        return stored ? { ok: false, reason: "conflict", hold: stored } : { ok: false, reason: "conflict" };
      }
      if (stored.status === "cancelled") return { ok: false, reason: "conflict", hold: stored };
      if (stored.status !== "pending") return { ok: true, hold: stored, replay: true };
      hold = stored;
      replay = true;
    }
    this.maybeCrash("holdCreated");
    const debit = await this.applyToAccount(
      hold.accountId,
      entryIds.hold(hold.holdId),
      "SET balance = balance - :amount, held = held + :amount",
      { ":amount": hold.amount },
      hold.createdAt,
      { extraCondition: "balance >= :amount", capped: true },
    ).catch(async (e: unknown) => {
      // Refused for a full applied map: nothing was debited, so the same id may be retried later.
      if (e instanceof LedgerFullError) await this.forgetPending(hold);
      throw e;
    });
    if (debit === "missing" || debit === "refused" || debit === "voided") {
      await this.forgetPending(hold);
      const reason = debit === "missing" ? "no_account" : debit === "voided" ? "conflict" : "insufficient";
      return { ok: false, reason };
    }
    this.maybeCrash("debited");
    await this.putEntry({
      entryId: entryIds.hold(hold.holdId),
      accountId: hold.accountId,
      kind: "hold",
      amount: hold.amount,
      holdId: hold.holdId,
      at: hold.createdAt,
    });
    const held = await this.transition(hold.holdId, ["pending"], "SET #status = :to", { ":to": "held" });
    const now = held ?? (await this.getHold(hold.holdId));
    if (!now) throw new Error(`hold ${hold.holdId} vanished`);
    return { ok: true, hold: now, replay };
  }

  capture(holdId: string, amount: number, at: number): Promise<SettleResult> {
    return this.settle(holdId, "capture", amount, at);
  }

  release(holdId: string, at: number): Promise<SettleResult> {
    return this.settle(holdId, "release", 0, at);
  }

  async getHold(holdId: string): Promise<Hold | null> {
    return parseHold(await this.getItem(holdKey(holdId)));
  }

  async openHolds(accountId: string): Promise<Hold[]> {
    const { gsi1pk } = openIndexKeys({ accountId, holdId: "" });
    const items = await this.queryAll({
      IndexName: "gsi1",
      KeyConditionExpression: "gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
      ExpressionAttributeValues: { ":pk": gsi1pk, ":prefix": `${accountId}#` },
    });
    return this.freshHolds(items);
  }

  async entries(accountId: string, limit: number): Promise<LedgerEntry[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": accountKey(accountId).pk, ":prefix": "ENTRY#" },
        ScanIndexForward: false,
        Limit: Math.max(1, Math.min(1000, limit)),
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(parseEntry).filter((e): e is LedgerEntry => e !== null);
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

  async sweepHolds(now: number, options: SweepOptions = {}): Promise<DynamoSweepReport> {
    const report = { examined: 0, cancelled: 0, released: 0, finished: 0, failed: 0 };
    for (let shard = 0; shard < OPEN_SHARDS; shard++) {
      const items = await this.queryAll({
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": `OPENHOLD#${shard}` },
      });
      for (const hold of await this.freshHolds(items)) {
        report.examined++;
        // One hold that cannot be finished (a throttle, a bad item) must not stop the others; it is retried on the
        // next sweep.
        try {
          await this.sweepOne(hold, now, report, options);
        } catch {
          report.failed++;
        }
      }
    }
    return report;
  }

  private async sweepOne(
    start: Hold,
    now: number,
    report: { cancelled: number; released: number; finished: number },
    options: SweepOptions,
  ) {
    let hold: Hold | null = start;
    if (hold.status === "pending") {
      if (hold.createdAt + this.graceMs >= now) return;
      // Claim the debit's entry id with a tombstone: afterwards the abandoned writer can never debit.
      const claim = await this.applyToAccount(hold.accountId, entryIds.hold(hold.holdId), "", {}, voidMarker(now));
      if (claim === "applied" || claim === "voided" || claim === "missing") {
        await this.cancelPending(hold);
        report.cancelled++;
        return;
      }
      // The debit did happen: the hold is real; write its journal entry and continue as held.
      await this.putEntry({
        entryId: entryIds.hold(hold.holdId),
        accountId: hold.accountId,
        kind: "hold",
        amount: hold.amount,
        holdId: hold.holdId,
        at: hold.createdAt,
      });
      hold =
        (await this.transition(hold.holdId, ["pending"], "SET #status = :to", { ":to": "held" })) ??
        (await this.getHold(hold.holdId));
      if (!hold) return;
    }
    if (hold.status === "held" && hold.deadline < now) {
      if (options.beforeRelease && !(await options.beforeRelease(hold))) return;
      const r = await this.settle(hold.holdId, "release", 0, now);
      if (r.ok) report.released++;
      return;
    }
    if (hold.status === "capturing" || hold.status === "releasing") {
      await this.finish(hold);
      report.finished++;
    }
  }

  private async settle(holdId: string, kind: "capture" | "release", amount: number, at: number): Promise<SettleResult> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const hold = await this.getHold(holdId);
      if (!hold) return { ok: false, reason: "not_found" };
      const done = kind === "capture" ? "captured" : "released";
      const working = kind === "capture" ? "capturing" : "releasing";
      if (hold.status === done || (kind === "release" && hold.status === "cancelled")) return { ok: true, hold };
      if (hold.status === working) return { ok: true, hold: await this.finish(hold) };
      if (kind === "release" && hold.status === "pending") {
        await this.cancelPendingByTombstone(hold, at);
        continue;
      }
      if (hold.status !== "held") return { ok: false, reason: "conflict", hold };
      const charged = kind === "capture" ? Math.max(0, Math.min(hold.amount, Math.floor(amount))) : 0;
      const decided = await this.transition(
        holdId,
        ["held"],
        "SET #status = :to, captureAmount = :c, settledAt = :at",
        { ":to": working, ":c": charged, ":at": at },
      );
      if (!decided) continue;
      this.maybeCrash("settleDecided");
      return { ok: true, hold: await this.finish(decided) };
    }
    const last = await this.getHold(holdId);
    return last ? { ok: false, reason: "conflict", hold: last } : { ok: false, reason: "not_found" };
  }

  /** Applies a decided capture/release to the account (idempotent), journals it and closes the hold. */
  private async finish(hold: Hold): Promise<Hold> {
    const charged = hold.status === "capturing" ? (hold.captureAmount ?? 0) : 0;
    const back = hold.amount - charged;
    const at = hold.settledAt ?? hold.createdAt;
    await this.settleOnAccount(
      hold,
      "SET held = held - :amount, spent = spent + :charged, balance = balance + :back",
      { ":amount": hold.amount, ":charged": charged, ":back": back },
      at,
    );
    this.maybeCrash("accountSettled");
    const base = { accountId: hold.accountId, holdId: hold.holdId, at };
    // Both journal entries in one round trip; they must both be there before the hold closes (the sweeper only
    // finishes holds still open).
    await Promise.all([
      charged > 0
        ? this.putEntry({ ...base, entryId: entryIds.capture(hold.holdId), kind: "capture", amount: charged })
        : undefined,
      back > 0
        ? this.putEntry({ ...base, entryId: entryIds.release(hold.holdId), kind: "release", amount: back })
        : undefined,
    ]);
    const to = hold.status === "capturing" ? "captured" : "released";
    const closed = await this.transition(hold.holdId, [hold.status], "SET #status = :to REMOVE gsi1pk, gsi1sk", {
      ":to": to,
    });
    return closed ?? (await this.getHold(hold.holdId)) ?? hold;
  }

  private async cancelPendingByTombstone(hold: Hold, at: number): Promise<void> {
    const claim = await this.applyToAccount(hold.accountId, entryIds.hold(hold.holdId), "", {}, voidMarker(at));
    if (claim === "applied" || claim === "voided" || claim === "missing") await this.cancelPending(hold);
    else await this.transition(hold.holdId, ["pending"], "SET #status = :to", { ":to": "held" });
  }

  private async cancelPending(hold: Hold): Promise<void> {
    await this.transition(hold.holdId, ["pending"], "SET #status = :to REMOVE gsi1pk, gsi1sk", { ":to": "cancelled" });
  }

  /**
   * A hold refused at the debit never touched the account; delete its item so the same id can be tried again
   * (a client topping up and retrying with the same Idempotency-Key). Conditional on still pending.
   */
  private async forgetPending(hold: Hold): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: holdKey(hold.holdId),
          ConditionExpression: "#status = :pending",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":pending": "pending" },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
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

  /**
   * Applies a decided settlement once: conditional on the hold's debit marker still being a number (reserved, not
   * settled), which it turns into a settled marker in the same write. No other marker is needed, and a late second
   * finisher fails the condition whether the marker is settled or already pruned.
   */
  private async settleOnAccount(
    hold: Hold,
    update: string,
    values: Record<string, unknown>,
    at: number,
  ): Promise<"applied" | "already"> {
    try {
      await this.updateAccount(hold.accountId, at, {
        UpdateExpression: `${update}, #applied.#e = :settled ADD appliedCount :one`,
        ConditionExpression: "attribute_exists(pk) AND attribute_type(#applied.#e, :number)",
        ExpressionAttributeNames: { "#applied": "applied", "#e": entryIds.hold(hold.holdId) },
        ExpressionAttributeValues: { ...values, ":settled": settledMarker(at), ":number": "N" },
      });
      return "applied";
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return "already";
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

  private async transition(
    holdId: string,
    from: readonly Hold["status"][],
    update: string,
    values: Record<string, unknown>,
  ): Promise<Hold | null> {
    const fromValues: Record<string, unknown> = {};
    from.forEach((s, i) => {
      fromValues[`:from${i}`] = s;
    });
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: holdKey(holdId),
          UpdateExpression: update,
          ConditionExpression: `#status IN (${Object.keys(fromValues).join(", ")})`,
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ...values, ...fromValues },
          ReturnValues: "ALL_NEW",
        }),
      );
      return parseHold(out.Attributes);
    } catch (e) {
      if (isConditionFailure(e)) return null;
      throw e;
    }
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

  /** The index is eventually consistent and may project only keys: re-read each hold and keep the open ones. */
  private async freshHolds(items: readonly Record<string, unknown>[]): Promise<Hold[]> {
    const holds: Hold[] = [];
    for (const item of items) {
      const pk = typeof item.pk === "string" ? item.pk : "";
      if (!pk.startsWith("HOLD#")) continue;
      const hold = await this.getHold(pk.slice("HOLD#".length));
      if (hold && isOpenHold(hold.status)) holds.push(hold);
    }
    return holds;
  }

  private maybeCrash(step: CrashStep): void {
    if (this.crashAfter(step)) throw new SimulatedCrash(step);
  }
}
