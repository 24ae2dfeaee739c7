import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { entryIds } from "../../core/billing/hold-state.ts";
import type { SweepOptions } from "../../core/ports/ledger.ts";
import { isConditionalCheckFailed } from "./dynamo.ts";
import { accountIndexKeys, type DynamoHolds } from "./ledger-holds.ts";
import { accountKey, holdKey, parseHold, parseMarker } from "./ledger-items.ts";

/**
 * Open holds of the ledger before holds moved onto the account item: a `HOLD#<id>` item in the open-hold index,
 * its debit recorded as the account's applied marker `hold:<id>` (a number while reserved). No code writes them any
 * more, so the sweeper moves each onto its account once: (1) one conditional write puts it in the account's `holds`
 * and turns the marker into "settled" (the reservation stays where it is: balance and held are already right) ->
 * (2) a decided capture/release is settled as any hold -> (3) the old item is deleted. A crash between steps is
 * finished by the next sweep: step (1) is skipped once the hold is on the account. A hold whose debit never
 * happened (pending, no marker or a tombstone) is just deleted: no writer of that ledger is left to debit it.
 */
export async function migrateLegacyHold(
  deps: { readonly db: DynamoDBDocumentClient; readonly table: string; readonly holds: DynamoHolds },
  holdId: string,
  now: number,
  options: SweepOptions,
): Promise<"migrated" | "dropped" | "finished" | "skipped"> {
  const { db, table } = deps;
  const hold = parseHold(
    (await db.send(new GetCommand({ TableName: table, Key: holdKey(holdId), ConsistentRead: true }))).Item,
  );
  if (!hold) return "skipped";
  const ref = { accountId: hold.accountId, holdId, amount: hold.amount };
  if (hold.status === "captured" || hold.status === "released" || hold.status === "cancelled") {
    await closeSettled(db, table, holdId, hold.status === "captured" ? "captured" : "released");
    return "finished";
  }
  const account = (
    await db.send(new GetCommand({ TableName: table, Key: accountKey(hold.accountId), ConsistentRead: true }))
  ).Item;
  const marker = parseMarker(((account?.applied ?? {}) as Record<string, unknown>)[entryIds.hold(holdId)]);
  const onAccount = ((account?.holds ?? {}) as Record<string, unknown>)[holdId] !== undefined;
  if (!onAccount) {
    if (marker?.kind === "settled") {
      // That ledger settled the account but died before closing the hold item: close it.
      await closeSettled(db, table, holdId, hold.status === "capturing" ? "captured" : "released");
      return "finished";
    }
    if (marker?.kind !== "applied") {
      // Never debited: nothing to move.
      await deleteIfOpen(db, table, holdId);
      return "dropped";
    }
    if (!account?.holds) await deps.holds.addMaps(hold.accountId);
    try {
      await db.send(
        new UpdateCommand({
          TableName: table,
          Key: accountKey(hold.accountId),
          UpdateExpression: "SET #H.#h = :hold, #A.#e = :settled, gsi1pk = :gpk, gsi1sk = :gsk",
          ConditionExpression: "attribute_type(#A.#e, :number) AND attribute_not_exists(#H.#h)",
          ExpressionAttributeNames: { "#H": "holds", "#A": "applied", "#h": holdId, "#e": entryIds.hold(holdId) },
          ExpressionAttributeValues: {
            ":hold": { amount: hold.amount, deadline: hold.deadline, createdAt: hold.createdAt },
            ":settled": `s:${now}`,
            ":number": "N",
            ":gpk": accountIndexKeys(hold.accountId).gsi1pk,
            ":gsk": accountIndexKeys(hold.accountId).gsi1sk,
          },
        }),
      );
    } catch (e) {
      // Another sweeper moved it meanwhile: the next sweep finishes from there.
      if (!isConditionalCheckFailed(e)) throw e;
      return "skipped";
    }
  }
  if (hold.status === "capturing" || hold.status === "releasing") {
    const kind = hold.status === "capturing" ? "capture" : "release";
    await deps.holds.settle(ref, kind, hold.captureAmount ?? 0, hold.settledAt ?? now);
  } else if (hold.deadline < now && (!options.beforeRelease || (await options.beforeRelease(hold)))) {
    await deps.holds.settle(ref, "release", 0, now);
  }
  await deleteIfOpen(db, table, holdId);
  return "migrated";
}

/** Deletes the old item unless a rollup has meanwhile written the hold's durable record over it. */
async function deleteIfOpen(db: DynamoDBDocumentClient, table: string, holdId: string): Promise<void> {
  try {
    await db.send(
      new DeleteCommand({
        TableName: table,
        Key: holdKey(holdId),
        ConditionExpression: "begins_with(gsi1pk, :open)",
        ExpressionAttributeValues: { ":open": "OPENHOLD#" },
      }),
    );
  } catch (e) {
    if (!isConditionalCheckFailed(e)) throw e;
  }
}

/**
 * Closes the old item, while it is one: a sweep that moved the hold may have rolled it up since, and its durable
 * record (same key, in the account's journal index) is not to be touched.
 */
async function closeSettled(db: DynamoDBDocumentClient, table: string, holdId: string, to: "captured" | "released") {
  try {
    await db.send(
      new UpdateCommand({
        TableName: table,
        Key: holdKey(holdId),
        UpdateExpression: "SET #s = :to REMOVE gsi1pk, gsi1sk",
        ConditionExpression: "begins_with(gsi1pk, :open)",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":to": to, ":open": "OPENHOLD#" },
      }),
    );
  } catch (e) {
    if (!isConditionalCheckFailed(e)) throw e;
  }
}
