import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { LedgerBusyError } from "../../core/billing/errors.ts";
import { Account, Hold, LedgerEntry } from "../../core/billing/schema.ts";

/**
 * Item layout of the `ledger` table (pk/sk, gsi1 sparse):
 * - account `ACCT#<id>` / `ACCT`: balance, held, spent, the holds not yet rolled up (`holds`, `settled`, `rollup`,
 *   see ledger-holds.ts; while it has any, `openGen` names its open-hold marker, which puts it on the sweeper's
 *   index), and `applied`, a map entryId -> marker of the credits applied to it. That map is what makes each single-item debit/credit idempotent without transactions: every
 *   update is conditional on `attribute_not_exists(applied.#entry)`. Its size is bounded by the markers' lifecycle
 *   (see `Marker`), not by traffic: a marker lives only while its sequence is unfinished, plus a retention that
 *   guards against a stalled retry.
 * - open-hold marker `OPEN#<accountId>` / `OPEN` (ledger-open-marker.ts): gsi1pk `OPENHOLD#<shard>`, gsi1sk
 *   `<accountId>`, while the account has holds; accounts from before markers carry those keys themselves.
 * - hold `HOLD#<id>` / `HOLD`: a settled hold's durable record, written by its rollup (ledger-holds.ts); gsi1pk
 *   `JOURNAL#<accountId>`, gsi1sk `<settledAt:15>#<holdId>` list an account's holds for its journal.
 * - credit intent `CREDIT#<entryId>` / `CREDIT`: the top-up request (fingerprint), `status` pending -> applied; once
 *   applied, a replay is answered from it without touching the account (the account's marker may be gone).
 * - entry `ACCT#<id>` / `ENTRY#<ms:15>#<entryId>`: the journal; written with deterministic keys so a replay
 *   rewrites the same item.
 */
export const OPEN_SHARDS = 4;

/**
 * Values of the account's applied map (hold markers: only on accounts from before holds moved onto the account
 * item; kept so that their pruning still works):
 * - a number (ms): the movement is applied. For a hold's debit (`hold:<id>`) it also means "reserved, not yet
 *   settled": the settlement is conditional on that number being there and turns it into `s:<ms>`, so a hold can
 *   never be settled twice, however late a second finisher comes. Never pruned by time while a number.
 * - `s:<ms>`: the hold was settled at ms. Pruned after the settled retention.
 * - `v:<ms>`: tombstone written by the sweeper at ms: the hold's debit may never happen. Pruned after the applied
 *   retention, and only once the hold is no longer pending.
 * Credits keep a number; it is pruned after the applied retention once the CREDIT item says `applied`.
 */
export type Marker =
  | { readonly kind: "applied"; readonly at: number }
  | { readonly kind: "settled"; readonly at: number }
  | { readonly kind: "void"; readonly at: number };

export const voidMarker = (at: number) => `v:${at}`;
export const settledMarker = (at: number) => `s:${at}`;
export const HOLD_ENTRY_PREFIX = "hold:";

export function parseMarker(value: unknown): Marker | null {
  if (typeof value === "number" && Number.isFinite(value)) return { kind: "applied", at: value };
  if (typeof value !== "string") return null;
  // "void" without a time: tombstones written before markers carried one; age them from 0.
  if (value === "void") return { kind: "void", at: 0 };
  const at = Number(value.slice(2));
  if (!Number.isFinite(at)) return null;
  if (value.startsWith("v:")) return { kind: "void", at };
  if (value.startsWith("s:")) return { kind: "settled", at };
  return null;
}

/**
 * Largest applied map an account may reach before new holds are refused (each entry is ~60-120 bytes, so this
 * keeps the item far below DynamoDB's 400 KB). Normal traffic stays far below: one entry per open hold plus those
 * settled within the retention.
 */
export const MAX_APPLIED = 2000;

/** Thrown instead of DynamoDB's ValidationException when an item's applied map is full even after pruning. */
/** An applied map is full: a LedgerBusyError, so the API can answer "retry later" without knowing this adapter. */
export class LedgerFullError extends LedgerBusyError {
  override readonly name: string = "LedgerFullError";
}

/** Applied-map keys removed per update (keeps the update expression well under DynamoDB's 4 KB). */
export const PRUNE_BATCH = 100;
/** Every this many writes to an item, its applied map is pruned. */
export const PRUNE_EVERY = 32;

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

/** Removes applied-map keys from one item, in batches. A key already gone is a no-op, so prunes may race. */
export async function removeMarkers(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
  entryIds: readonly string[],
): Promise<void> {
  for (let start = 0; start < entryIds.length; start += PRUNE_BATCH) {
    const batch = entryIds.slice(start, start + PRUNE_BATCH);
    const names: Record<string, string> = { "#applied": "applied" };
    batch.forEach((k, i) => {
      names[`#p${i}`] = k;
    });
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: key,
        UpdateExpression: `REMOVE ${batch.map((_, i) => `#applied.#p${i}`).join(", ")}`,
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: names,
      }),
    );
  }
}

/**
 * Reads items by key (strongly consistent), keyed by pk: the item, or null when it does not exist. A key DynamoDB
 * left unprocessed is absent from the result: callers treat absent as "unknown" and keep the marker (always safe).
 */
export async function getItems(
  db: DynamoDBDocumentClient,
  table: string,
  keys: readonly { pk: string; sk: string }[],
): Promise<Map<string, Record<string, unknown> | null>> {
  const found = new Map<string, Record<string, unknown> | null>();
  const unique = [...new Map(keys.map((k) => [k.pk, k])).values()];
  for (let start = 0; start < unique.length; start += 100) {
    const batch = unique.slice(start, start + 100);
    const out = await db.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: batch, ConsistentRead: true } } }),
    );
    const unprocessed = new Set(
      (out.UnprocessedKeys?.[table]?.Keys ?? []).map((k) => (typeof k.pk === "string" ? k.pk : "")),
    );
    for (const k of batch) if (!unprocessed.has(k.pk)) found.set(k.pk, null);
    for (const item of out.Responses?.[table] ?? []) {
      if (typeof item.pk === "string") found.set(item.pk, item);
    }
  }
  return found;
}

/** Records on a sequence's own item (a top-up intent, a fee split) that its account updates were applied. */
export async function markApplied(
  db: DynamoDBDocumentClient,
  table: string,
  key: { pk: string; sk: string },
): Promise<void> {
  await db.send(
    new UpdateCommand({
      TableName: table,
      Key: key,
      UpdateExpression: "SET #status = :applied",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":applied": "applied" },
    }),
  );
}
