import { randomBytes } from "node:crypto";
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { LedgerBusyError } from "../../core/billing/errors.ts";
import { Hold, Micro, ShareCredit } from "../../core/billing/schema.ts";
import { clampCharge, shareEntriesOf, validSplit } from "../../core/billing/shares.ts";
import type { CaptureSplit, HoldRef, HoldResult, Ledger, SettleResult, SweepOptions } from "../../core/ports/ledger.ts";
import { batchPutAll, isConditionalCheckFailed, written } from "./dynamo.ts";
import { AccountWrites, conditionalUpdate, type HoldEntry, holdUpdate } from "./ledger-account-writes.ts";
import { accountKey, getItems, holdKey, LedgerFullError, MAX_APPLIED, OPEN_SHARDS, shardOf } from "./ledger-items.ts";
import {
  deleteOpenMarker,
  MARKER_REFRESH_AFTER_MS,
  type OpenMarker,
  ORPHAN_MARKER_AFTER_MS,
  putOpenMarker,
} from "./ledger-open-marker.ts";
import { packSettlement, readSettlement, type Settlement } from "./ledger-settlement.ts";
import type { DynamoShares } from "./ledger-shares.ts";

/**
 * Holds live on their account item (`ACCT#<id>` / `ACCT`, see ledger-items.ts), so that a hold and a settlement
 * are one conditional write each:
 * - `holds`: holdId -> { amount, deadline, createdAt, memo? } of every hold not yet rolled up, open or settled;
 * - `settled`: holdId -> its settlement { status, captureAmount?, settledAt, task?, shares? } until rolled up, packed
 *   in one string (ledger-settlement.ts; items written before keep maps, read alike);
 *   a hold is open while it is in `holds` and not in `settled`;
 * - `rollup`: { id, at, holdIds } while a batch of settled holds is being rolled up (one at a time per account);
 * - `openGen` while the account has holds: the generation of its open-hold marker, the small item that puts it on
 *   the sweeper's index (ledger-open-marker.ts); accounts from before markers carry the index keys themselves.
 * A rollup moves a batch of settled holds off the account: (1) records the batch in `rollup` (conditional on none
 * in flight) -> (2) puts each hold's durable record `HOLD#<id>` / `HOLD` (final state, fee split, journal: gsi1pk
 * `JOURNAL#<accountId>`) with BatchWriteItem -> (3) credits the batch's fee shares, per payee one write idempotent by
 * batch id (ledger-shares.ts) -> (4) removes the batch from `holds`/`settled` and `rollup` (conditional on the batch
 * id). Every step can be repeated: whoever finds a `rollup` in flight (a settle, the sweeper) finishes it.
 * A hold id is used once, forever: a hold whose durable record exists is a replay. The durable record is written
 * (2) before the account forgets the hold (4), so a hold that passed the account's condition and then reads no
 * durable record is new; one that reads one is a duplicate and is undone at once (or by the sweeper after a crash).
 */
export const ROLLUP_AT = 16;
/** Holds per rollup batch: keeps the account's update expression under DynamoDB's 4 KB. */
export const ROLLUP_MAX = 100;
/** Rollup batches one sweep of one account runs at most (the rest waits for the next sweep). */
const SWEEP_ROLLUPS = 20;
/**
 * An open hold older than this is checked for a durable record of its id (a duplicate a crash left unchecked). A
 * hold checks itself right after its write, so only a crash leaves one: young holds are not worth the reads.
 */
export const DUPLICATE_CHECK_AFTER_MS = 60_000;

/** Statuses of a hold's durable record (and of the earlier ledger's closed hold items). */
const FINAL = new Set(["captured", "released", "cancelled"]);

export type RollupStep = "rollupStarted" | "holdsArchived" | "payeesCredited";

const OpenHold = z.object({
  amount: Micro,
  deadline: z.number().int(),
  createdAt: z.number().int(),
  memo: z.string().optional(),
});
type OpenHold = z.infer<typeof OpenHold>;
const Rollup = z.object({ id: z.string(), at: z.number().int(), holdIds: z.array(z.string()) });
type Rollup = z.infer<typeof Rollup>;
/** A durable record: the final hold plus what the rollup needs again (the split). */
const Archived = Hold.extend({ task: z.string().optional(), shares: z.array(ShareCredit).optional() });
type Archived = z.infer<typeof Archived>;

type AccountItem = Record<string, unknown>;
const mapOf = (item: AccountItem, name: "holds" | "settled") =>
  (item[name] && typeof item[name] === "object" ? item[name] : {}) as Record<string, unknown>;

/** A hold as the account item has it (open or settled, not yet rolled up), with its split; null when absent. */
function holdIn(item: AccountItem, accountId: string, holdId: string): Archived | null {
  const open = OpenHold.safeParse(mapOf(item, "holds")[holdId]);
  if (!open.success) return null;
  const base: Hold = { holdId, accountId, status: "held", ...open.data };
  const settled = readSettlement(mapOf(item, "settled")[holdId]);
  if (!settled) return base;
  const { status, captureAmount, settledAt, task, shares } = settled;
  return {
    ...base,
    status,
    settledAt,
    ...(captureAmount !== undefined ? { captureAmount } : {}),
    ...(task !== undefined ? { task } : {}),
    ...(shares ? { shares } : {}),
  };
}

const asHold = ({ task: _task, shares: _shares, ...hold }: Archived): Hold => hold;

export interface DynamoHoldsOptions {
  readonly db: DynamoDBDocumentClient;
  readonly table: string;
  readonly shares: DynamoShares;
  /** Settled holds on one account that make a settle roll them up (besides the sweeper). */
  readonly rollupAt?: number;
  readonly crash: (step: RollupStep) => void;
  /**
   * A rollup that took longer than this (wall clock) by the time it credits the payees checks first that its batch
   * is still in flight: the payees' markers of a finished batch are pruned after the shares' retention, so a
   * finisher that stalled past it (a frozen Lambda, a paused process) would credit the batch again. Default 30 s.
   */
  readonly staleAfterMs?: number;
  /** Holds (or settlements) of one account in one write at most (ledger-account-writes.ts); 1 turns grouping off. */
  readonly groupMax?: number;
}

export class DynamoHolds {
  private readonly db: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly rollupAt: number;
  /**
   * Rollups this process runs in the background, one per account: a settle only starts one (it never waits for
   * it), and while one runs the account's other settles leave it alone. Without this, concurrent settles of a busy
   * account each finished the same batch (idempotent, but every archive and payee write several times: ~12 ledger
   * writes per query at 16 clients instead of ~4), and every 16th client waited for a whole rollup.
   */
  private readonly rolling = new Map<string, Promise<void>>();
  /** Holds and settlements on an account, grouped while one is in flight (ledger-account-writes.ts). */
  private readonly writes: AccountWrites;

  constructor(private readonly options: DynamoHoldsOptions) {
    this.db = options.db;
    this.table = options.table;
    this.rollupAt = options.rollupAt ?? ROLLUP_AT;
    this.writes = new AccountWrites(options.db, options.table, options.groupMax);
  }

  /**
   * One conditional write on the account, then (unless the caller vouches the id is fresh) one read of the id's
   * durable record (see the class comment).
   */
  async hold(input: Parameters<Ledger["hold"]>[0]): Promise<HoldResult> {
    const open: OpenHold = {
      amount: input.amount,
      deadline: input.deadline,
      createdAt: input.at,
      ...(input.memo ? { memo: input.memo } : {}),
    };
    // The marker this hold put, when the account had none (ledger-open-marker.ts): the hold then sets its generation.
    let marking: { marker: OpenMarker; putAt: number } | undefined;
    // A marker's `at` is when it is put, on input.at's clock: a marker put (or re-put) after a stall dated input.at
    // would look as old as the stall to a sweeper, which may take it for an orphan before this hold's write lands.
    // Whole milliseconds: the sweeper reads `at` as an integer (OpenMarker), and a marker it cannot read would keep
    // the account off its sweeps for good.
    const started = performance.now();
    const markAt = () => input.at + Math.floor(performance.now() - started);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (marking && performance.now() - marking.putAt > MARKER_REFRESH_AFTER_MS) {
        // Long after its put (a stalled process): a sweeper may take an unflagged marker this old for an orphan.
        marking = await this.putMarker(input.accountId, markAt());
      }
      const entry: HoldEntry = { holdId: input.holdId, amount: input.amount, open };
      // Grouped with the account's other holds in flight from this process (ledger-account-writes.ts), except a
      // first hold's, which names its marker.
      const held = marking
        ? (await conditionalUpdate(
            this.db,
            holdUpdate(this.table, input.accountId, [entry], { gen: marking.marker.gen }),
          )) !== null
        : await this.writes.hold(input.accountId, entry);
      if (!held) {
        const item = await this.account(input.accountId);
        if (!item) return { ok: false, reason: "no_account" };
        const existing = holdIn(item, input.accountId, input.holdId);
        if (existing) {
          // Open and maybe this hold's own write (applied, its answer lost, the SDK's retry refused): the id may
          // have been used before, as after the write below, where an earlier settled hold's record wins.
          const earlier = existing.status === "held" && !input.freshId ? await this.archived(input.holdId) : null;
          if (!earlier) return replayOf(asHold(existing), input);
          await this.undoDuplicate(input.accountId, input.holdId, existing);
          return replayOf(asHold(earlier), input);
        }
        if (!item.holds || !item.settled) {
          await this.addMaps(input.accountId);
          continue;
        }
        const full = Object.keys(mapOf(item, "holds")).length >= MAX_APPLIED;
        const short = typeof item.balance !== "number" || item.balance < input.amount;
        if (!full && short) return { ok: false, reason: "insufficient" };
        if (typeof item.openGen !== "string" && marking === undefined) {
          // No marker generation on the account: put one, then hold and name it in one write.
          marking = await this.putMarker(input.accountId, markAt());
          continue;
        }
        if (typeof item.openGen === "string" && marking !== undefined && item.openGen !== marking.marker.gen) {
          // Another hold named its own marker first: hold as usual (this one's marker is an orphan the sweeper ends).
          marking = undefined;
          continue;
        }
        // Neither short nor full now: the account changed since the write (another first hold named its generation,
        // credit came back), so hold again rather than refuse a client who has the credit.
        if (!full) continue;
        // Full: settled holds can be rolled off; open ones cannot.
        if ((await this.rollup(input.accountId, input.at, item)) === 0) {
          throw new LedgerFullError(`account ${input.accountId} has ${MAX_APPLIED} unsettled holds; retry later`);
        }
        continue;
      }
      const earlier = input.freshId ? null : await this.archived(input.holdId);
      if (!earlier) return { ok: true, hold: heldHold(input, open), replay: false };
      await this.undoDuplicate(input.accountId, input.holdId, open);
      return replayOf(asHold(earlier), input);
    }
    // Every attempt met an account that had changed since (concurrent holds, rollups): nothing was held.
    throw new LedgerBusyError(`account ${input.accountId} kept changing under this hold; retry later`);
  }

  /** Captures or releases with one conditional write on the account; a read only when the amount is not known. */
  async settle(
    ref: HoldRef,
    kind: "capture" | "release",
    amount: number,
    at: number,
    split?: CaptureSplit,
  ): Promise<SettleResult> {
    let held = ref.amount;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (held === undefined) {
        const current = await this.find(ref);
        if (!current) return { ok: false, reason: "not_found" };
        if (current.status !== "held") return outcome(kind, current);
        held = current.amount;
      }
      const charged = kind === "capture" ? clampCharge(held, amount) : 0;
      if (split && !validSplit(split, charged)) return this.refused(ref, kind);
      const settlement: Settlement = {
        status: kind === "capture" ? "captured" : "released",
        ...(kind === "capture" ? { captureAmount: charged } : {}),
        settledAt: at,
        ...(split?.task !== undefined ? { task: split.task } : {}),
        ...(split && split.shares.length > 0 ? { shares: [...split.shares] } : {}),
      };
      const packed = packSettlement(settlement);
      // Stored only if it reads back: one that does not looks open (holdIn), and the rollup would drop it unrecorded.
      if (!readSettlement(packed)) return this.refused(ref, kind);
      // Grouped with the account's other settlements in flight from this process (ledger-account-writes.ts).
      const item = await this.writes.settle(ref.accountId, { holdId: ref.holdId, held, charged, packed });
      if (item === null) {
        held = undefined;
        continue;
      }
      const hold = holdIn(item, ref.accountId, ref.holdId);
      if (!hold) throw new Error(`hold ${ref.holdId} vanished while settling`);
      this.maybeRollup(ref.accountId, at, item);
      return { ok: true, hold: asHold(hold) };
    }
    const last = await this.find(ref);
    return last ? { ok: false, reason: "conflict", hold: last } : { ok: false, reason: "not_found" };
  }

  /**
   * A settlement this ledger will not store (its split, or one that would not read back): refused as `invalid`,
   * unless the hold is settled already, when a replay gets the first outcome, as every other replay does (the
   * memory ledger looks at the hold first). Only this path reads: the write names the hold's amount.
   */
  private async refused(ref: HoldRef, kind: "capture" | "release"): Promise<SettleResult> {
    const current = await this.find(ref);
    return current && current.status !== "held" ? outcome(kind, current) : { ok: false, reason: "invalid" };
  }

  /**
   * On the account while not rolled up, else its durable record. Throws UnreadableSettlementError for a hold settled
   * in a form this version cannot read: it is not open, and whether it was captured (and for how much) is unknown.
   */
  async find(ref: HoldRef): Promise<Hold | null> {
    const item = await this.account(ref.accountId);
    if (item && settledUnreadably(item, ref.holdId)) throw new UnreadableSettlementError(ref.holdId);
    const there = item ? holdIn(item, ref.accountId, ref.holdId) : null;
    if (there) return asHold(there);
    const archived = await this.archived(ref.holdId);
    return archived && archived.accountId === ref.accountId ? asHold(archived) : null;
  }

  async openHolds(accountId: string): Promise<Hold[]> {
    const item = await this.account(accountId);
    return item ? openIn(item, accountId) : [];
  }

  /** The account's settled holds still on it, as journal material (rolled-up ones are read from their records). */
  async unarchived(accountId: string): Promise<Archived[]> {
    const item = await this.account(accountId);
    if (!item) return [];
    return Object.keys(mapOf(item, "holds")).flatMap((id) => holdIn(item, accountId, id) ?? []);
  }

  /** Accounts with holds, for the sweeper. */
  static indexShards(): string[] {
    return Array.from({ length: OPEN_SHARDS }, (_, shard) => `OPENHOLD#${shard}`);
  }

  /**
   * One account: releases its expired holds (unless `beforeRelease` keeps one), undoes duplicates a crash left,
   * rolls up its settled holds, and leaves the index once it has none. `marker`: the open-hold marker it was found
   * by (ledger-open-marker.ts); absent for an account on the index itself (as accounts were before markers).
   */
  async sweepAccount(
    accountId: string,
    now: number,
    options: SweepOptions,
    report: { examined: number; released: number; finished: number },
    marker?: OpenMarker,
  ): Promise<void> {
    const item = await this.account(accountId);
    if (!item) {
      if (marker) await this.dropMarkerIfOrphan(accountId, marker, now);
      return;
    }
    const open = openIn(item, accountId);
    report.examined += open.length;
    const old = open.filter((h) => h.createdAt < now - DUPLICATE_CHECK_AFTER_MS);
    const archived = await getItems(
      this.db,
      this.table,
      old.map((h) => holdKey(h.holdId)),
    );
    for (const hold of open) {
      // A final record of the same account (null: none; absent: unknown, checked on the next sweep). An open one is
      // the earlier ledger's item of this very hold, moved here by a sweep that died before deleting it
      // (ledger-legacy.ts): not a duplicate.
      const record = archived.get(holdKey(hold.holdId).pk);
      if (record?.accountId === accountId && FINAL.has(String(record.status))) {
        // A hold id used before, debited again by a hold that crashed before its check: give it back.
        await this.undoDuplicate(accountId, hold.holdId, hold);
        continue;
      }
      if (hold.deadline >= now) continue;
      if (options.beforeRelease && !(await options.beforeRelease(hold))) continue;
      const released = await this.settle({ accountId, holdId: hold.holdId, amount: hold.amount }, "release", 0, now);
      if (released.ok && released.hold.status === "released") report.released++;
    }
    // This process's own rollup of the account first: the sweep would otherwise redo its batch alongside it.
    await this.rolling.get(accountId);
    for (let i = 0; i < SWEEP_ROLLUPS; i++) {
      const rolled = await this.rollup(accountId, now);
      report.finished += rolled;
      if (rolled === 0) break;
    }
    if (marker) await this.dropMarkerIfIdle(accountId, marker, now);
    else await this.leaveIndexIfIdle(accountId);
  }

  /**
   * Starts rolling up in the background when a settle leaves enough settled holds on the account (see `rolling`);
   * failures are left to the next settle or the sweeper, and every step is idempotent.
   */
  private maybeRollup(accountId: string, now: number, item: AccountItem): void {
    if (this.rolling.has(accountId) || !this.worthRolling(item)) return;
    const run = this.rollWhileFull(accountId, now, item)
      .catch(() => undefined)
      .finally(() => this.rolling.delete(accountId));
    this.rolling.set(accountId, run);
  }

  private worthRolling(item: AccountItem): boolean {
    const settled = Object.keys(mapOf(item, "settled")).length;
    if (settled < this.rollupAt) return false;
    // A batch in flight is another process's rollup under way, or one a crash left for the sweeper (once a
    // minute): past twice the threshold it is finished here (finishing is idempotent), or a busy account's item
    // would grow to DynamoDB's 400 KB (~1,000 settled holds with their splits) and refuse every hold and settle.
    return item.rollup === undefined || settled >= 2 * this.rollupAt;
  }

  /** Batch after batch while settles keep the account above the threshold (a few at most; the sweeper does the rest). */
  private async rollWhileFull(accountId: string, now: number, first: AccountItem): Promise<void> {
    let item: AccountItem | undefined = first;
    for (let i = 0; i < 4 && item && this.worthRolling(item); i++) {
      const done = await this.rollupBatch(accountId, now, item);
      if (done.count === 0) return;
      item = done.after;
    }
  }

  /** Resolves once the rollups this process started have ended (tests; a Lambda before it returns). */
  async drain(): Promise<void> {
    while (this.rolling.size > 0) await Promise.all(this.rolling.values());
  }

  /** One batch (see the class comment); returns how many holds it rolled up (0: nothing to do). */
  async rollup(accountId: string, now: number, known?: AccountItem): Promise<number> {
    return (await this.rollupBatch(accountId, now, known)).count;
  }

  /** `after`: the account as the batch's last write left it (absent when another finisher wrote it first). */
  private async rollupBatch(
    accountId: string,
    now: number,
    known?: AccountItem,
  ): Promise<{ count: number; after?: AccountItem }> {
    const begun = Date.now();
    let item = known ?? (await this.account(accountId));
    if (!item) return { count: 0 };
    let batch = Rollup.safeParse(item.rollup).data;
    for (let attempt = 0; !batch; attempt++) {
      const holdIds = rollable(item, accountId).slice(0, ROLLUP_MAX);
      if (holdIds.length === 0 || attempt === 2) return { count: 0 };
      // The batch starts only while every one of its holds is still settled on the account: `item` may be older
      // than a rollup that took some of them since. Its id is new (payees' markers key on it): a hold can be in two
      // batches, as one that a batch could not archive stays on the account (finishBatch) and a later batch may
      // start with it, which named by its first hold alone met the payee markers of the first and credited nothing.
      const fresh: Rollup = {
        id: `roll:${accountId}:${holdIds[0]}:${randomBytes(6).toString("hex")}`,
        at: now,
        holdIds,
      };
      const names: Record<string, string> = { "#R": "rollup", "#S": "settled" };
      holdIds.forEach((id, i) => {
        names[`#i${i}`] = id;
      });
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: accountKey(accountId),
            UpdateExpression: "SET #R = :r",
            ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(#R)${holdIds
              .map((_, i) => ` AND attribute_exists(#S.#i${i})`)
              .join("")}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ":r": fresh },
          }),
        );
        batch = fresh;
      } catch (e) {
        if (!isConditionalCheckFailed(e)) throw e;
        // Someone else started one (finish theirs), or rolled some of these holds up already (start afresh).
        item = await this.account(accountId);
        if (!item) return { count: 0 };
        batch = Rollup.safeParse(item.rollup).data;
        continue;
      }
      this.options.crash("rollupStarted");
    }
    const current = item;
    const records = batch.holdIds.flatMap((id) => {
      const hold = holdIn(current, accountId, id);
      return hold && hold.status !== "held" ? [hold] : [];
    });
    // A batch's holds are all settled on `item` (it started only while they were): one that reads as held (a
    // settlement this version cannot read) or not at all (a damaged open entry) gets no record, so it stays on the
    // account (see `rollable`): the account forgets only the holds whose records answer for them.
    const done = records.map((hold) => hold.holdId);
    // (2) Durable records first: once the account forgets a hold, its record must answer for it.
    await batchPutAll(this.db, this.table, records.map(archiveItem));
    this.options.crash("holdsArchived");
    const entries = records.flatMap((h) =>
      h.shares && h.settledAt !== undefined
        ? shareEntriesOf({ requestId: h.holdId, at: h.settledAt, task: h.task, shares: h.shares })
        : [],
    );
    if (entries.length > 0) {
      // Normally no read here: the batch was in flight a moment ago. After a stall, another finisher may have
      // finished it and its payees' markers may be gone: then it is done, and crediting it again would double it.
      if (Date.now() - begun > (this.options.staleAfterMs ?? 30_000)) {
        const current = await this.account(accountId);
        if (Rollup.safeParse(current?.rollup).data?.id !== batch.id) return { count: 0 };
      }
      await this.options.shares.creditBatch({ id: batch.id, accountId, at: batch.at }, entries);
    }
    this.options.crash("payeesCredited");
    const after = await this.finishBatch(accountId, batch, done);
    return after ? { count: records.length, after } : { count: records.length };
  }

  /**
   * (4) Drops the batch's archived holds (`holdIds`) from the account, once: conditional on the batch still in
   * flight.
   */
  private async finishBatch(
    accountId: string,
    batch: Rollup,
    holdIds: readonly string[],
  ): Promise<AccountItem | undefined> {
    const names: Record<string, string> = {
      "#R": "rollup",
      ...(holdIds.length > 0 ? { "#H": "holds", "#S": "settled" } : {}),
    };
    holdIds.forEach((id, i) => {
      names[`#i${i}`] = id;
    });
    const paths = holdIds.flatMap((_, i) => [`#H.#i${i}`, `#S.#i${i}`]);
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: accountKey(accountId),
          UpdateExpression: `REMOVE ${["#R", ...paths].join(", ")}`,
          ConditionExpression: "#R.id = :id",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":id": batch.id },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes;
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
      return undefined;
    }
  }

  private async putMarker(accountId: string, at: number): Promise<{ marker: OpenMarker; putAt: number }> {
    return { marker: await putOpenMarker({ db: this.db, table: this.table }, accountId, at), putAt: performance.now() };
  }

  /**
   * An account found by its marker that holds nothing: removes its `openGen` (conditional on no holds and no rollup,
   * so a hold that came in between keeps it), then the marker if still that generation. With no `openGen`, the
   * marker is an orphan (ledger-open-marker.ts).
   */
  private async dropMarkerIfIdle(accountId: string, marker: OpenMarker, now: number): Promise<void> {
    const item = await this.account(accountId);
    const gen = item?.openGen;
    if (typeof gen !== "string") return this.dropMarkerIfOrphan(accountId, marker, now);
    if (item === undefined || Object.keys(mapOf(item, "holds")).length > 0 || item.rollup !== undefined) return;
    const removed = await written(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: accountKey(accountId),
          UpdateExpression: "REMOVE openGen",
          ConditionExpression: "openGen = :gen AND size(#H) = :zero AND attribute_not_exists(#R)",
          ExpressionAttributeNames: { "#H": "holds", "#R": "rollup" },
          ExpressionAttributeValues: { ":gen": gen, ":zero": 0 },
        }),
      ),
    );
    if (!removed) return;
    await deleteOpenMarker({ db: this.db, table: this.table }, accountId, { gen });
  }

  /** A marker whose account names no generation: deleted once old (a young one may be a hold's, between its writes). */
  private async dropMarkerIfOrphan(accountId: string, marker: OpenMarker, now: number): Promise<void> {
    if (now - marker.at <= ORPHAN_MARKER_AFTER_MS) return;
    await deleteOpenMarker({ db: this.db, table: this.table }, accountId, marker);
  }

  /** Takes the account off the sweeper's index when it holds nothing (a later hold puts it back). */
  private async leaveIndexIfIdle(accountId: string): Promise<void> {
    await written(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: accountKey(accountId),
          UpdateExpression: "REMOVE gsi1pk, gsi1sk",
          ConditionExpression: "attribute_exists(gsi1pk) AND size(#H) = :zero AND attribute_not_exists(#R)",
          ExpressionAttributeNames: { "#H": "holds", "#R": "rollup" },
          ExpressionAttributeValues: { ":zero": 0 },
        }),
      ),
    );
  }

  /** Gives back a hold that debited an id already used (its durable record exists). Idempotent. */
  private async undoDuplicate(accountId: string, holdId: string, open: Pick<OpenHold, "amount" | "createdAt">) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: accountKey(accountId),
          UpdateExpression: "SET balance = balance + :amount, held = held - :amount REMOVE #H.#h",
          ConditionExpression: "#H.#h.amount = :amount AND #H.#h.createdAt = :at AND attribute_not_exists(#S.#h)",
          ExpressionAttributeNames: { "#H": "holds", "#S": "settled", "#h": holdId },
          ExpressionAttributeValues: { ":amount": open.amount, ":at": open.createdAt },
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e;
    }
  }

  /** Accounts opened before holds lived on them lack the two maps. */
  async addMaps(accountId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: accountKey(accountId),
        UpdateExpression: "SET #H = if_not_exists(#H, :empty), #S = if_not_exists(#S, :empty)",
        ExpressionAttributeNames: { "#H": "holds", "#S": "settled" },
        ExpressionAttributeValues: { ":empty": {} },
      }),
    );
  }

  private async archived(holdId: string): Promise<Archived | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: holdKey(holdId), ConsistentRead: true }),
    );
    return Archived.safeParse(out.Item).data ?? null;
  }

  private async account(accountId: string): Promise<AccountItem | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: accountKey(accountId), ConsistentRead: true }),
    );
    return out.Item;
  }
}

export function accountIndexKeys(accountId: string) {
  return { gsi1pk: `OPENHOLD#${shardOf(accountId)}`, gsi1sk: accountId };
}

/**
 * The settled holds a rollup may take: every one whose open entry and settlement both read. One that does not
 * (written by another version of this ledger, during a deploy or after a rollback, or damaged) would get no durable
 * record and none of its shares credited, and removing it would let its id be debited again: it stays on the
 * account (its release is refused too: `settled` has it) until a version that reads it rolls it up.
 */
function rollable(item: AccountItem, accountId: string): string[] {
  return Object.keys(mapOf(item, "settled")).filter((id) => {
    const hold = holdIn(item, accountId, id);
    return hold !== null && hold.status !== "held";
  });
}

/** Open holds: not in `settled` at all (one settled in a form this version cannot read is not open either). */
function openIn(item: AccountItem, accountId: string): Hold[] {
  const settled = mapOf(item, "settled");
  return Object.keys(mapOf(item, "holds")).flatMap((id) => {
    const hold = holdIn(item, accountId, id);
    return hold && hold.status === "held" && settled[id] === undefined ? [asHold(hold)] : [];
  });
}

function settledUnreadably(item: AccountItem, holdId: string): boolean {
  const value = mapOf(item, "settled")[holdId];
  return value !== undefined && readSettlement(value) === null;
}

/**
 * A hold settled on its account in a form this version cannot read (another version's, during a deploy or after a
 * rollback): neither open nor known to be captured or released, so a settle or a look-up of it fails rather than
 * answer "held", on which a settler stored its query as expired at no cost though the client had paid. A version
 * that reads it answers (and rolls it up).
 */
export class UnreadableSettlementError extends Error {
  override readonly name = "UnreadableSettlementError";
  constructor(holdId: string) {
    super(`hold ${holdId} is settled in a form this version cannot read; retry once a version that reads it runs`);
  }
}

function archiveItem(hold: Archived): Record<string, unknown> {
  return {
    ...holdKey(hold.holdId),
    ...hold,
    gsi1pk: `JOURNAL#${hold.accountId}`,
    gsi1sk: `${String(hold.settledAt ?? hold.createdAt).padStart(15, "0")}#${hold.holdId}`,
  };
}

function heldHold(input: { holdId: string; accountId: string }, open: OpenHold): Hold {
  return { holdId: input.holdId, accountId: input.accountId, status: "held", ...open };
}

function replayOf(hold: Hold, input: { accountId: string; amount: number }): HoldResult {
  return hold.accountId === input.accountId && hold.amount === input.amount
    ? { ok: true, hold, replay: true }
    : { ok: false, reason: "conflict", hold };
}

function outcome(kind: "capture" | "release", hold: Hold): SettleResult {
  const done =
    kind === "capture" ? hold.status === "captured" : hold.status === "released" || hold.status === "cancelled";
  return done ? { ok: true, hold } : { ok: false, reason: "conflict", hold };
}
