import { canTransition, entryIds, isOpenHold } from "../../core/billing/hold-state.ts";
import type { Account, Hold, LedgerEntry } from "../../core/billing/schema.ts";
import type { CreditResult, HoldResult, Ledger, SettleResult, SweepReport } from "../../core/ports/ledger.ts";

/**
 * In-memory Ledger. Every method runs without an await between its read and its write, so each call is atomic and
 * there are no half-done states: the sweeper only has deadlines to enforce. Semantics (idempotency per id,
 * conflicts, never below zero) are the DynamoDB adapter's.
 */
export class MemoryLedger implements Ledger {
  private readonly accounts = new Map<string, Account>();
  private readonly holds = new Map<string, Hold>();
  private readonly entryLog = new Map<string, { entry: LedgerEntry; fingerprint?: string }>();

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

  async capture(holdId: string, amount: number, at: number): Promise<SettleResult> {
    const hold = this.holds.get(holdId);
    if (!hold) return { ok: false, reason: "not_found" };
    if (hold.status === "captured") return { ok: true, hold: { ...hold } };
    if (!canTransition(hold.status, "captured")) return { ok: false, reason: "conflict", hold: { ...hold } };
    const charged = Math.max(0, Math.min(hold.amount, Math.floor(amount)));
    this.settle(hold, "captured", charged, at);
    return { ok: true, hold: { ...hold } };
  }

  async release(holdId: string, at: number): Promise<SettleResult> {
    const hold = this.holds.get(holdId);
    if (!hold) return { ok: false, reason: "not_found" };
    if (hold.status === "released" || hold.status === "cancelled") return { ok: true, hold: { ...hold } };
    if (!canTransition(hold.status, "released")) return { ok: false, reason: "conflict", hold: { ...hold } };
    this.settle(hold, "released", 0, at);
    return { ok: true, hold: { ...hold } };
  }

  async getHold(holdId: string): Promise<Hold | null> {
    const h = this.holds.get(holdId);
    return h ? { ...h } : null;
  }

  async openHolds(accountId: string): Promise<Hold[]> {
    return [...this.holds.values()]
      .filter((h) => h.accountId === accountId && isOpenHold(h.status))
      .map((h) => ({ ...h }));
  }

  async entries(accountId: string, limit: number): Promise<LedgerEntry[]> {
    return [...this.entryLog.values()]
      .map((e) => e.entry)
      .filter((e) => e.accountId === accountId)
      .sort((a, b) => b.at - a.at || (a.entryId < b.entryId ? 1 : -1))
      .slice(0, Math.max(0, limit));
  }

  async sweepHolds(now: number): Promise<SweepReport> {
    let examined = 0;
    let released = 0;
    for (const hold of this.holds.values()) {
      if (!isOpenHold(hold.status)) continue;
      examined++;
      if (hold.deadline < now) {
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
    this.entryLog.set(entry.entryId, fingerprint === undefined ? { entry } : { entry, fingerprint });
  }
}
