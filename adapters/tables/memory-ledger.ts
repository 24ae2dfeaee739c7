import { canTransition, entryIds, isOpenHold } from "../../core/billing/hold-state.ts";
import { withinBalanceCap } from "../../core/billing/limits.ts";
import type { Account, Hold, LedgerEntry, ShareEntry } from "../../core/billing/schema.ts";
import { clampCharge, newestFirst, shareEntriesOf, validShares, validSplit } from "../../core/billing/shares.ts";
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

/**
 * In-memory Ledger. Every method runs without an await between its read and its write, so each call is atomic and
 * there are no half-done states: the sweeper only has deadlines to enforce. Semantics (idempotency per id,
 * conflicts, never below zero) are the DynamoDB adapter's.
 */
export class MemoryLedger implements Ledger {
  private readonly accounts = new Map<string, Account>();
  private readonly holds = new Map<string, Hold>();
  private readonly entryLog = new Map<string, { entry: LedgerEntry; fingerprint?: string }>();
  /** Per account, so that usage and open holds do not scan every account's history. */
  private readonly entriesByAccount = new Map<string, LedgerEntry[]>();
  private readonly holdsByAccount = new Map<string, Hold[]>();
  /** Request id -> its shares as first decided. */
  private readonly splits = new Map<string, readonly ShareEntry[]>();
  private readonly earnings = new Map<string, { balance: number; entries: ShareEntry[] }>();

  async openAccount(accountId: string, name: string, at: number): Promise<Account> {
    const existing = this.accounts.get(accountId);
    if (existing) return { ...existing };
    const account: Account = { accountId, name, balance: 0, held: 0, spent: 0, createdAt: at };
    this.accounts.set(accountId, account);
    return { ...account };
  }

  async getAccount(accountId: string): Promise<Account | null> {
    const a = this.accounts.get(accountId);
    return a ? { ...a } : null;
  }

  async credit(input: Parameters<Ledger["credit"]>[0]): Promise<CreditResult> {
    const account = this.accounts.get(input.accountId);
    if (!account) return { ok: false, reason: "no_account" };
    const seen = this.entryLog.get(input.entryId);
    if (seen) {
      if (seen.fingerprint !== input.fingerprint || seen.entry.accountId !== input.accountId) {
        return { ok: false, reason: "conflict" };
      }
      return { ok: true, account: { ...account }, entry: seen.entry, replay: true };
    }
    if (!withinBalanceCap(account.balance, input.amount)) return { ok: false, reason: "limit" };
    const entry: LedgerEntry = {
      entryId: input.entryId,
      accountId: input.accountId,
      kind: "credit",
      amount: input.amount,
      at: input.at,
      ...(input.memo ? { memo: input.memo } : {}),
    };
    account.balance += input.amount;
    this.record(entry, input.fingerprint);
    return { ok: true, account: { ...account }, entry, replay: false };
  }

  async hold(input: Parameters<Ledger["hold"]>[0]): Promise<HoldResult> {
    const existing = this.holds.get(input.holdId);
    if (existing) {
      const same = existing.accountId === input.accountId && existing.amount === input.amount;
      return same
        ? { ok: true, hold: { ...existing }, replay: true }
        : { ok: false, reason: "conflict", hold: { ...existing } };
    }
    const account = this.accounts.get(input.accountId);
    if (!account) return { ok: false, reason: "no_account" };
    if (account.balance < input.amount) return { ok: false, reason: "insufficient" };
    account.balance -= input.amount;
    account.held += input.amount;
    const hold: Hold = {
      holdId: input.holdId,
      accountId: input.accountId,
      amount: input.amount,
      status: "held",
      deadline: input.deadline,
      createdAt: input.at,
      ...(input.memo ? { memo: input.memo } : {}),
    };
    this.holds.set(hold.holdId, hold);
    const accountHolds = this.holdsByAccount.get(hold.accountId) ?? [];
    accountHolds.push(hold);
    this.holdsByAccount.set(hold.accountId, accountHolds);
    this.record({
      entryId: entryIds.hold(hold.holdId),
      accountId: hold.accountId,
      kind: "hold",
      amount: hold.amount,
      holdId: hold.holdId,
      at: input.at,
    });
    return { ok: true, hold: { ...hold }, replay: false };
  }

  async capture(ref: HoldRef, amount: number, at: number, split?: CaptureSplit): Promise<SettleResult> {
    const hold = this.holdOf(ref);
    if (!hold) return { ok: false, reason: "not_found" };
    if (hold.status === "captured") return { ok: true, hold: { ...hold } };
    if (!canTransition(hold.status, "captured")) return { ok: false, reason: "conflict", hold: { ...hold } };
    const charged = clampCharge(hold.amount, amount);
    if (split && !validSplit(split, charged)) return { ok: false, reason: "invalid", hold: { ...hold } };
    this.settle(hold, "captured", charged, at);
    if (split) this.applyShares({ requestId: hold.holdId, at, task: split.task, shares: split.shares });
    return { ok: true, hold: { ...hold } };
  }

  async release(ref: HoldRef, at: number): Promise<SettleResult> {
    const hold = this.holdOf(ref);
    if (!hold) return { ok: false, reason: "not_found" };
    if (hold.status === "released" || hold.status === "cancelled") return { ok: true, hold: { ...hold } };
    if (!canTransition(hold.status, "released")) return { ok: false, reason: "conflict", hold: { ...hold } };
    this.settle(hold, "released", 0, at);
    return { ok: true, hold: { ...hold } };
  }

  async getHold(ref: HoldRef): Promise<Hold | null> {
    const h = this.holdOf(ref);
    return h ? { ...h } : null;
  }

  /** A hold is named with its account (as the DynamoDB adapter needs): another account's hold is not found. */
  private holdOf(ref: HoldRef): Hold | undefined {
    const hold = this.holds.get(ref.holdId);
    return hold?.accountId === ref.accountId ? hold : undefined;
  }

  async openHolds(accountId: string): Promise<Hold[]> {
    const holds = this.holdsByAccount.get(accountId) ?? [];
    // Settled holds leave the index here, so that it only ever holds what is open (or about to be dropped).
    const open = holds.filter((h) => isOpenHold(h.status));
    this.holdsByAccount.set(accountId, open);
    return open.map((h) => ({ ...h }));
  }

  async entries(accountId: string, limit: number): Promise<LedgerEntry[]> {
    return [...(this.entriesByAccount.get(accountId) ?? [])]
      .sort((a, b) => b.at - a.at || (a.entryId < b.entryId ? 1 : -1))
      .slice(0, Math.max(0, limit))
      .map((e) => ({ ...e }));
  }

  async creditShares(input: Parameters<Ledger["creditShares"]>[0]): Promise<ShareResult> {
    if (!validShares(input.shares)) return { ok: false, reason: "invalid" };
    return this.applyShares(input);
  }

  private applyShares(input: Parameters<Ledger["creditShares"]>[0]): ShareResult {
    const decided = this.splits.get(input.requestId);
    if (decided) return { ok: true, entries: decided.map((e) => ({ ...e })), replay: true };
    const entries = shareEntriesOf(input);
    this.splits.set(input.requestId, entries);
    for (const entry of entries) {
      const payee = this.earnings.get(entry.payee) ?? { balance: 0, entries: [] };
      payee.balance += entry.amount;
      payee.entries.push(entry);
      this.earnings.set(entry.payee, payee);
    }
    return { ok: true, entries: entries.map((e) => ({ ...e })), replay: false };
  }

  async payeeBalance(payee: string): Promise<number> {
    return this.earnings.get(payee)?.balance ?? 0;
  }

  async shareEntries(payee: string, limit: number): Promise<ShareEntry[]> {
    const entries = this.earnings.get(payee)?.entries ?? [];
    return [...entries]
      .sort(newestFirst)
      .slice(0, Math.max(0, limit))
      .map((e) => ({ ...e }));
  }

  async sweepHolds(now: number, options: SweepOptions = {}): Promise<SweepReport> {
    let examined = 0;
    let released = 0;
    for (const hold of this.holds.values()) {
      if (!isOpenHold(hold.status)) continue;
      examined++;
      if (hold.deadline < now) {
        if (options.beforeRelease && !(await options.beforeRelease({ ...hold }))) continue;
        // Re-checked: the hold may have been captured while the callback ran.
        if (!isOpenHold(hold.status)) continue;
        this.settle(hold, "released", 0, now);
        released++;
      }
    }
    return { examined, cancelled: 0, released, finished: 0 };
  }

  private settle(hold: Hold, status: "captured" | "released", charged: number, at: number): void {
    const account = this.accounts.get(hold.accountId);
    if (!account) return;
    const back = hold.amount - charged;
    account.held -= hold.amount;
    account.spent += charged;
    account.balance += back;
    hold.status = status;
    hold.settledAt = at;
    if (status === "captured") hold.captureAmount = charged;
    if (charged > 0)
      this.record({
        entryId: entryIds.capture(hold.holdId),
        accountId: hold.accountId,
        kind: "capture",
        amount: charged,
        holdId: hold.holdId,
        at,
      });
    if (back > 0)
      this.record({
        entryId: entryIds.release(hold.holdId),
        accountId: hold.accountId,
        kind: "release",
        amount: back,
        holdId: hold.holdId,
        at,
      });
  }

  private record(entry: LedgerEntry, fingerprint?: string): void {
    if (!this.entryLog.has(entry.entryId)) {
      const list = this.entriesByAccount.get(entry.accountId) ?? [];
      list.push(entry);
      this.entriesByAccount.set(entry.accountId, list);
    }
    this.entryLog.set(entry.entryId, fingerprint === undefined ? { entry } : { entry, fingerprint });
  }
}
