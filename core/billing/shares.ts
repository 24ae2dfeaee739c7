import { type ShareCredit, type ShareEntry, shareEntryId } from "./schema.ts";

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

/** A capture's split: valid shares that together give out no more than the charge. */
export function validSplit(shares: readonly ShareCredit[], charged: number): boolean {
  return validShares(shares) && shares.reduce((sum, s) => sum + s.amount, 0) <= charged;
}
