import { ShareCredit, type ShareEntry, shareEntryId } from "./schema.ts";

/**
 * Shares in one capture's split at most (k experts and the platform: a handful). The Dynamo ledger keeps a split on
 * the account item until its rollup and reads no more back (ledger-settlement.ts).
 */
export const MAX_SPLIT_SHARES = 1_000;
/** A split's task name at most, as a query's task is (core/jobs/schema.ts). */
const MAX_SPLIT_TASK = 64;

/**
 * Every amount a non-negative safe integer, no payee twice, and no `#` in a payee (hotkeys are base58; the DynamoDB
 * layout uses `#` as its separator). Both ledgers refuse anything else as `invalid`.
 */
export function validShares(shares: readonly ShareCredit[]): boolean {
  const payees = new Set<string>();
  for (const s of shares) {
    if (
      !Number.isSafeInteger(s.amount) ||
      s.amount < 0 ||
      s.payee.length === 0 ||
      s.payee.includes("#") ||
      payees.has(s.payee)
    )
      return false;
    payees.add(s.payee);
  }
  return true;
}

/** The journal entries of one request's shares, with their deterministic ids. */
export function shareEntriesOf(input: {
  readonly requestId: string;
  readonly at: number;
  readonly task?: string;
  readonly shares: readonly ShareCredit[];
}): ShareEntry[] {
  return input.shares.map((s) => ({
    entryId: shareEntryId(input.requestId, s.payee),
    payee: s.payee,
    requestId: input.requestId,
    amount: s.amount,
    at: input.at,
    ...(s.uid !== undefined ? { uid: s.uid } : {}),
    ...(input.task !== undefined ? { task: input.task } : {}),
  }));
}

/** Most recent first; ties by entry id so both ledgers list in the same order. */
export function newestFirst(a: ShareEntry, b: ShareEntry): number {
  return b.at - a.at || (a.entryId < b.entryId ? 1 : a.entryId > b.entryId ? -1 : 0);
}

/** What a capture of `amount` charges on a hold of `held`: a whole number between 0 and the hold. */
export function clampCharge(held: number, amount: number): number {
  return Math.max(0, Math.min(held, Math.floor(amount)));
}

/**
 * A capture's split: valid shares that together give out no more than the charge, each one a ShareCredit (payee of
 * at most 64 characters, uid 0..65535), no more than MAX_SPLIT_SHARES of them, and a task of at most 64 characters.
 * Both ledgers refuse anything else as `invalid`: the Dynamo ledger stores a split until its rollup, and one it could
 * not read back made the hold look open there, so the rollup dropped it with nobody paid and no record of its id.
 */
export function validSplit(
  split: { readonly task?: string; readonly shares: readonly ShareCredit[] },
  charged: number,
) {
  const { task, shares } = split;
  return (
    shares.length <= MAX_SPLIT_SHARES &&
    (task === undefined || task.length <= MAX_SPLIT_TASK) &&
    shares.every((s) => ShareCredit.safeParse(s).success) &&
    validShares(shares) &&
    shares.reduce((sum, s) => sum + s.amount, 0) <= charged
  );
}
