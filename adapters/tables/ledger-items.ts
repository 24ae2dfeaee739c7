import { Account, Hold, LedgerEntry } from "../../core/billing/schema.ts";

/**
 * Item layout of the `ledger` table (pk/sk, gsi1 sparse):
 * - account `ACCT#<id>` / `ACCT`: balance, held, spent, and `applied`, a map entryId -> ms (or "void") of the
 *   movements already applied to it. That map is what makes each single-item debit/credit idempotent without
 *   transactions: every update is conditional on `attribute_not_exists(applied.#entry)`.
 * - hold `HOLD#<id>` / `HOLD`; while open it carries gsi1pk `OPENHOLD#<shard>`, gsi1sk `<accountId>#<holdId>`
 *   (removed when terminal), so the sweeper and `openHolds` read only open holds.
 * - credit intent `CREDIT#<entryId>` / `CREDIT`: the top-up request (fingerprint) before it is applied.
 * - entry `ACCT#<id>` / `ENTRY#<ms:15>#<entryId>`: the journal; written with deterministic keys so a replay
 *   rewrites the same item.
 */
export const OPEN_SHARDS = 4;
export const VOID = "void";

export const accountKey = (accountId: string) => ({ pk: `ACCT#${accountId}`, sk: "ACCT" });
export const holdKey = (holdId: string) => ({ pk: `HOLD#${holdId}`, sk: "HOLD" });
export const creditKey = (entryId: string) => ({ pk: `CREDIT#${entryId}`, sk: "CREDIT" });
export const entryKey = (entry: LedgerEntry) => ({
  pk: `ACCT#${entry.accountId}`,
  sk: `ENTRY#${String(entry.at).padStart(15, "0")}#${entry.entryId}`,
});

export function shardOf(accountId: string): number {
  let h = 0;
  for (let i = 0; i < accountId.length; i++) h = (h * 31 + accountId.charCodeAt(i)) >>> 0;
  return h % OPEN_SHARDS;
}

export function openIndexKeys(hold: Pick<Hold, "accountId" | "holdId">) {
  return { gsi1pk: `OPENHOLD#${shardOf(hold.accountId)}`, gsi1sk: `${hold.accountId}#${hold.holdId}` };
}

export function parseAccount(item: Record<string, unknown> | undefined): Account | null {
  if (!item) return null;
  const parsed = Account.safeParse(item);
  return parsed.success ? parsed.data : null;
}

export function parseHold(item: Record<string, unknown> | undefined): Hold | null {
  if (!item) return null;
  const parsed = Hold.safeParse(item);
  return parsed.success ? parsed.data : null;
}

export function parseEntry(item: Record<string, unknown>): LedgerEntry | null {
  const parsed = LedgerEntry.safeParse(item);
  return parsed.success ? parsed.data : null;
}

/** Turns an entry id into an attribute-name placeholder map (ids may hold `:`/`#`, fine as names). */
export function appliedName(entryId: string): Record<string, string> {
  return { "#applied": "applied", "#e": entryId };
}
