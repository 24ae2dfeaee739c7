import type { Account, Hold, LedgerEntry, ShareCredit, ShareEntry } from "../billing/schema.ts";

export type CreditResult =
  | { readonly ok: true; readonly account: Account; readonly entry: LedgerEntry; readonly replay: boolean }
  /** `limit`: the balance would pass MAX_ACCOUNT_BALANCE (core/billing/limits.ts); nothing was credited. */
  | { readonly ok: false; readonly reason: "no_account" | "conflict" | "limit" };

export type HoldResult =
  | { readonly ok: true; readonly hold: Hold; readonly replay: boolean }
  | { readonly ok: false; readonly reason: "no_account" | "insufficient" | "conflict"; readonly hold?: Hold };

export type SettleResult =
  | { readonly ok: true; readonly hold: Hold }
  /** `invalid`: the capture's fee split is not valid (see `creditShares`) or shares out more than it charges. */
  | { readonly ok: false; readonly reason: "not_found" | "conflict" | "invalid"; readonly hold?: Hold };

/**
 * Names a hold: its account too, so that the DynamoDB adapter can settle it with one write on the account item.
 * `amount`, when the caller knows the amount it held, spares the adapter a read (a wrong one only costs that read).
 */
export interface HoldRef {
  readonly accountId: string;
  readonly holdId: string;
  readonly amount?: number;
}

/** The fee split decided with a capture: credited to the payees' earnings once, whatever replays say later. */
export interface CaptureSplit {
  readonly task?: string;
  readonly shares: readonly ShareCredit[];
}

export type ShareResult =
  | {
      readonly ok: true;
      /** The entries as first decided for this request (a replay returns those, whatever shares it was given). */
      readonly entries: readonly ShareEntry[];
      readonly replay: boolean;
    }
  | { readonly ok: false; readonly reason: "invalid" };

export interface SweepOptions {
  /**
   * Asked before a held hold past its deadline is released: false keeps it held (its request's answers are in and
   * were handed to the settler, which captures them), true lets the release go on. Without it every such hold is
   * released.
   */
  readonly beforeRelease?: (hold: Hold) => Promise<boolean>;
}

export interface SweepReport {
  readonly examined: number;
  readonly cancelled: number;
  readonly released: number;
  readonly finished: number;
}

/**
 * Credits ledger. Every movement has its own id, so a retried call is a no-op that returns the first outcome.
 * Balances never go below zero: a hold is refused (`insufficient`) rather than overdrawn.
 * DynamoDB adapter: single-item conditional writes only (no transactions): a hold and a settlement are one write
 * each on the account item, and settled holds are rolled up in batches (by a settle, every few, and by
 * `sweepHolds`, which also finishes a batch a crash interrupted).
 */
export interface Ledger {
  /** Creates the account with a zero balance; returns the existing one when it is already there. */
  openAccount(accountId: string, name: string, at: number): Promise<Account>;
  getAccount(accountId: string): Promise<Account | null>;
  /**
   * Adds credits once per `entryId`. `fingerprint` identifies the request that asked for it: the same entry id with
   * another fingerprint is a `conflict` (an Idempotency-Key reused for a different top-up). Refused whole
   * (`limit`) when the balance would pass MAX_ACCOUNT_BALANCE; the same entry id may then be tried again.
   */
  credit(input: {
    readonly accountId: string;
    readonly entryId: string;
    readonly amount: number;
    readonly at: number;
    readonly fingerprint?: string;
    readonly memo?: string;
  }): Promise<CreditResult>;
  /**
   * Reserves `amount` from the balance (idempotent per `holdId`; same id with another amount = `conflict`).
   * Throws `LedgerBusyError` (core/billing/errors.ts) when the ledger has no room to record it right now: nothing
   * was reserved and the same hold id may be tried again later.
   */
  hold(input: {
    readonly holdId: string;
    readonly accountId: string;
    readonly amount: number;
    readonly deadline: number;
    readonly at: number;
    readonly memo?: string;
    /**
     * The caller vouches that this hold id was never used (a random id): spares the DynamoDB adapter its read of
     * an earlier, settled hold of the same id. Without it, a retried id is always recognised.
     */
    readonly freshId?: boolean;
  }): Promise<HoldResult>;
  /**
   * Charges `amount` (clamped to the hold) and returns the rest to the balance. Idempotent: a replay returns the
   * first capture. `split` shares the charge out to payees (the request id is the hold id) as `creditShares` would,
   * recorded with the capture (the first capture's split stands); its shares must not add up to more than the
   * clamped charge. They reach `payeeBalance`/`shareEntries` at the latest by the next `sweepHolds` (the DynamoDB
   * adapter rolls them up in batches).
   */
  capture(hold: HoldRef, amount: number, at: number, split?: CaptureSplit): Promise<SettleResult>;
  /**
   * Resolves once work a settle left running in the background has ended (the DynamoDB adapter's rollups): a
   * Lambda calls it before returning, so that work is not frozen half way until its next invocation.
   */
  drain?(): Promise<void>;
  /** Returns the whole hold to the balance. Idempotent; a captured hold is a `conflict`. */
  release(hold: HoldRef, at: number): Promise<SettleResult>;
  getHold(hold: HoldRef): Promise<Hold | null>;
  /** Holds not yet captured, released or cancelled. */
  openHolds(accountId: string): Promise<Hold[]>;
  /** Most recent first. */
  entries(accountId: string, limit: number): Promise<LedgerEntry[]>;
  /**
   * Credits the parts of one request's captured fee to the payees' earnings balances (expert hotkeys and
   * PLATFORM_PAYEE), once per request: the first call records its shares as the decision; any later call for the
   * same `requestId` (a replayed or concurrent settle, even one that computed other shares because the weights moved)
   * finishes applying that decision and credits nothing twice. Entry ids are `shareEntryId(requestId, payee)`.
   * `invalid`: a payee twice or with a `#`, or an amount that is not a non-negative safe integer.
   */
  creditShares(input: {
    readonly requestId: string;
    readonly at: number;
    readonly task?: string;
    readonly shares: readonly ShareCredit[];
  }): Promise<ShareResult>;
  /** Earnings balance of a payee in micro-credits (0 when it never earned). */
  payeeBalance(payee: string): Promise<number>;
  /** A payee's share entries, most recent first. */
  shareEntries(payee: string, limit: number): Promise<ShareEntry[]>;
  /**
   * Releases held holds past their deadline (`options.beforeRelease` may keep one: an answered query is never
   * released for free) and finishes whatever a crash left half done (the DynamoDB adapter: rolls settled holds
   * into their durable records, the journal and the payees' earnings).
   */
  sweepHolds(now: number, options?: SweepOptions): Promise<SweepReport>;
}
