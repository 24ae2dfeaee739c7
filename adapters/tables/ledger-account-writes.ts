import { type DynamoDBDocumentClient, UpdateCommand, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import { isThrottling } from "../../core/errors/transient.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";
import { accountKey, MAX_APPLIED } from "./ledger-items.ts";
import { WriteGroups } from "./write-groups.ts";

/**
 * The two writes a paid query makes on its account item (ledger-holds.ts), for one hold or settlement or for a
 * group of them in one write (write-groups.ts). A group's write is all or nothing: its condition is every entry's
 * own condition, and its sums are the entries' sums, so it leaves the item as the entries' own writes one after the
 * other would. When a group's write fails (its condition: one entry is a replay, or the balance is short for all of
 * them; or an error other than throttling: one entry the item cannot take, a lost response), each entry is written
 * alone, and each caller gets its own entry's outcome. That is safe even when the group's write did land: each
 * entry's own condition then fails, and its caller finds its hold held or settled, as a replay.
 */

/** Entries in one write: keeps the update and condition expressions well under DynamoDB's 4 KB (~80 bytes each). */
export const ACCOUNT_GROUP_MAX = 16;
/** Above this the expressions could pass DynamoDB's limits (4 KB, 300 operators: a settlement has 4). */
const ACCOUNT_GROUP_LIMIT = 32;
/**
 * A group write still in flight this long (a slow request, the SDK's retries) stops holding the account's next
 * group back. A write normally returns in milliseconds.
 */
export const ACCOUNT_GROUP_STALL_MS = 250;

export interface HoldEntry {
  readonly holdId: string;
  readonly amount: number;
  /** The open hold as stored in the account's `holds` map. */
  readonly open: Readonly<Record<string, unknown>>;
}

export interface SettleEntry {
  readonly holdId: string;
  /** The amount the hold holds (the write is conditional on it). */
  readonly held: number;
  readonly charged: number;
  /** The settlement as stored in the account's `settled` map (ledger-settlement.ts). */
  readonly packed: string;
}

/**
 * Debits the entries' sum and records each hold. `marker`: a first hold names its open-hold marker's generation
 * (ledger-open-marker.ts); without it the account must have one already.
 */
export function holdUpdate(
  table: string,
  accountId: string,
  entries: readonly HoldEntry[],
  marker?: { readonly gen: string },
): UpdateCommandInput {
  const names: Record<string, string> = { "#H": "holds" };
  const values: Record<string, unknown> = {
    ":amount": entries.reduce((sum, e) => sum + e.amount, 0),
    // Each hold alone needs the map under the cap: with the group's others in it first, the last one still is.
    ":cap": MAX_APPLIED - entries.length + 1,
    ...(marker ? { ":gen": marker.gen } : {}),
  };
  const sets: string[] = [];
  const absent: string[] = [];
  entries.forEach((e, i) => {
    names[`#h${i}`] = e.holdId;
    values[`:hold${i}`] = e.open;
    sets.push(`#H.#h${i} = :hold${i}`);
    absent.push(`attribute_not_exists(#H.#h${i})`);
  });
  return {
    TableName: table,
    Key: accountKey(accountId),
    UpdateExpression: `SET balance = balance - :amount, held = held + :amount, ${sets.join(", ")}${
      marker ? ", openGen = :gen REMOVE gsi1pk, gsi1sk" : ""
    }`,
    ConditionExpression: `attribute_exists(pk) AND balance >= :amount AND ${absent.join(" AND ")} AND size(#H) < :cap AND ${
      marker ? "(attribute_not_exists(openGen) OR openGen = :gen)" : "attribute_exists(openGen)"
    }`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** Captures or releases each entry's hold; returns the account as the write left it. */
export function settleUpdate(table: string, accountId: string, entries: readonly SettleEntry[]): UpdateCommandInput {
  const names: Record<string, string> = { "#H": "holds", "#S": "settled" };
  const values: Record<string, unknown> = {
    ":amount": entries.reduce((sum, e) => sum + e.held, 0),
    ":charged": entries.reduce((sum, e) => sum + e.charged, 0),
    ":back": entries.reduce((sum, e) => sum + (e.held - e.charged), 0),
  };
  const sets: string[] = [];
  const conditions: string[] = [];
  entries.forEach((e, i) => {
    names[`#h${i}`] = e.holdId;
    values[`:a${i}`] = e.held;
    values[`:s${i}`] = e.packed;
    sets.push(`#S.#h${i} = :s${i}`);
    conditions.push(`#H.#h${i}.amount = :a${i} AND attribute_not_exists(#S.#h${i})`);
  });
  return {
    TableName: table,
    Key: accountKey(accountId),
    UpdateExpression: `SET held = held - :amount, spent = spent + :charged, balance = balance + :back, ${sets.join(", ")}`,
    ConditionExpression: conditions.join(" AND "),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ReturnValues: "ALL_NEW",
  };
}

/** The account's attributes after a write, or null when its condition failed. */
export async function conditionalUpdate(
  db: DynamoDBDocumentClient,
  input: UpdateCommandInput,
): Promise<Record<string, unknown> | null> {
  try {
    return (await db.send(new UpdateCommand(input))).Attributes ?? {};
  } catch (e) {
    if (isConditionalCheckFailed(e)) return null;
    throw e;
  }
}

/**
 * One write for the group, else one per entry (see the module comment). A throttled group write fails its callers:
 * one write per entry would only add load to a partition that is refusing it.
 */
async function groupOrEach<E, R>(
  entries: readonly E[],
  write: (entries: readonly E[]) => Promise<R | null>,
  spread: (entries: readonly E[], result: R) => readonly R[],
): Promise<PromiseSettledResult<R | null>[]> {
  if (entries.length > 1) {
    const together = await write(entries).catch((error: unknown) => {
      // A throttled partition gets no more writes from here (one per entry would be up to 16 more): the callers
      // fail, as each would alone after the SDK's own retries.
      if (isThrottling(error)) throw error;
      return null;
    });
    if (together !== null) return spread(entries, together).map((value) => ({ status: "fulfilled", value }));
  }
  return Promise.allSettled(entries.map((e) => write([e])));
}

/**
 * The account writes of one ledger, grouped per account. `hold` resolves true when the hold was recorded, false
 * when its condition failed (the caller reads the account to tell why); `settle` resolves to the account after the
 * write, null when its condition failed.
 */
export class AccountWrites {
  private readonly holds: ((accountId: string, entry: HoldEntry) => Promise<boolean>) | WriteGroups<HoldEntry, boolean>;
  private readonly settles:
    | ((accountId: string, entry: SettleEntry) => Promise<Record<string, unknown> | null>)
    | WriteGroups<SettleEntry, Record<string, unknown> | null>;

  /** `max` 1: each write alone, at once, as before grouping. */
  constructor(db: DynamoDBDocumentClient, table: string, max = ACCOUNT_GROUP_MAX) {
    if (!Number.isInteger(max) || max < 1 || max > ACCOUNT_GROUP_LIMIT) {
      throw new Error(`account writes group 1 to ${ACCOUNT_GROUP_LIMIT} entries, not ${max}`);
    }
    const holdAll = async (accountId: string, some: readonly HoldEntry[]) =>
      (await conditionalUpdate(db, holdUpdate(table, accountId, some))) === null ? null : true;
    const settleAll = (accountId: string, some: readonly SettleEntry[]) =>
      conditionalUpdate(db, settleUpdate(table, accountId, some));
    if (max === 1) {
      this.holds = async (accountId, entry) => (await holdAll(accountId, [entry])) === true;
      this.settles = (accountId, entry) => settleAll(accountId, [entry]);
      return;
    }
    const options = { max, stallMs: ACCOUNT_GROUP_STALL_MS };
    this.holds = new WriteGroups<HoldEntry, boolean>(
      async (accountId, entries) =>
        (
          await groupOrEach(
            entries,
            (some) => holdAll(accountId, some),
            (some) => some.map(() => true),
          )
        ).map((r) => (r.status === "fulfilled" ? { status: "fulfilled", value: r.value === true } : r)),
      (e) => e.holdId,
      options,
    );
    this.settles = new WriteGroups<SettleEntry, Record<string, unknown> | null>(
      (accountId, entries) =>
        groupOrEach(
          entries,
          (some) => settleAll(accountId, some),
          (some, item) => some.map(() => item),
        ),
      (e) => e.holdId,
      options,
    );
  }

  /** A hold on an account that has its open-hold marker's generation already. */
  hold(accountId: string, entry: HoldEntry): Promise<boolean> {
    return typeof this.holds === "function" ? this.holds(accountId, entry) : this.holds.submit(accountId, entry);
  }

  settle(accountId: string, entry: SettleEntry): Promise<Record<string, unknown> | null> {
    return typeof this.settles === "function" ? this.settles(accountId, entry) : this.settles.submit(accountId, entry);
  }
}
