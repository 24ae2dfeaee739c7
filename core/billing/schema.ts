import { z } from "zod";

/** Amounts are integer micro-credits (1 credit = 1,000,000); safe integers, never floats. */
export const Micro = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Balance per account (not per key, so several keys share credits). `held` is what open holds reserve. */
export const Account = z.object({
  accountId: z.string().min(1),
  name: z.string(),
  balance: Micro,
  held: Micro,
  spent: Micro,
  createdAt: z.number().int(),
});
export type Account = z.infer<typeof Account>;

/**
 * Life of a hold: held, then captured or released. `pending`, `capturing`, `releasing` and `cancelled` are the
 * intermediate states of the earlier DynamoDB ledger (one write per step, before holds moved onto the account
 * item: adapters/tables/ledger-holds.ts); kept so that stored holds of that ledger still parse.
 */
export const HoldStatus = z.enum(["pending", "held", "capturing", "releasing", "captured", "released", "cancelled"]);
export type HoldStatus = z.infer<typeof HoldStatus>;

export const Hold = z.object({
  holdId: z.string().min(1),
  accountId: z.string().min(1),
  amount: Micro,
  status: HoldStatus,
  /** Set when the decision to capture is taken; the rest of `amount` goes back to the balance. */
  captureAmount: Micro.optional(),
  /** After this (ms), a hold still open is released by the sweeper. */
  deadline: z.number().int(),
  createdAt: z.number().int(),
  settledAt: z.number().int().optional(),
  memo: z.string().optional(),
});
export type Hold = z.infer<typeof Hold>;

export const EntryKind = z.enum(["credit", "hold", "capture", "release"]);
export type EntryKind = z.infer<typeof EntryKind>;

/**
 * One movement of money, with its own id so a replay is a no-op. Effects on the account:
 * credit: balance += amount; hold: balance -= amount, held += amount; capture: held -= amount, spent += amount;
 * release: held -= amount, balance += amount.
 */
export const LedgerEntry = z.object({
  entryId: z.string().min(1),
  accountId: z.string().min(1),
  kind: EntryKind,
  amount: Micro,
  holdId: z.string().optional(),
  at: z.number().int(),
  memo: z.string().optional(),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

/** Who receives a part of a query fee: an expert's hotkey (ss58), or the platform (never a valid ss58 address). */
export const PLATFORM_PAYEE = "platform";

/** Idempotency id of one payee's share of one request's fee: a replayed settle hits the same id. */
export const shareEntryId = (requestId: string, payee: string) => `share:${requestId}:${payee}`;

/** One part of one request's captured fee, credited to a payee's earnings balance (never to a client account). */
export const ShareEntry = z.object({
  entryId: z.string().min(1),
  payee: z.string().min(1),
  requestId: z.string().min(1),
  amount: Micro,
  at: z.number().int(),
  /** The expert's uid when it answered (absent for the platform). */
  uid: z.number().int().min(0).max(65535).optional(),
  task: z.string().optional(),
});
export type ShareEntry = z.infer<typeof ShareEntry>;

/** The shares of one request as first decided; a replay applies these, never a recomputation. */
export const ShareCredit = z.object({
  payee: z.string().min(1).max(64),
  amount: Micro,
  uid: z.number().int().min(0).max(65535).optional(),
});
export type ShareCredit = z.infer<typeof ShareCredit>;
