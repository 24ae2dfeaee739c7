import { randomUUID } from "node:crypto";
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { written } from "./dynamo.ts";
import { shardOf } from "./ledger-items.ts";

/**
 * An account's open-hold marker, `OPEN#<accountId>` / `OPEN`: a small item that puts an account with holds on the
 * sweeper's index (gsi1pk `OPENHOLD#<shard>`, gsi1sk `<accountId>`) in place of the account item itself. The
 * ledger's index projects ALL, so an account item on the index had each hold and settle copied there again on AWS,
 * its whole size (up to ~10 KB on a busy account): about 10-15 write units a query (bench/market.ts, modelled).
 *
 * The account item's `openGen` names the marker generation put for it. The rules (ledger-holds.ts):
 * - a hold passes only where the account has `openGen`; where it has none, the hold first puts a marker with a new
 *   generation, then holds and sets `openGen` to it in one conditional write. So an account with holds has `openGen`
 *   and a marker was put before it.
 * - the sweeper removes `openGen` only from an account with no holds (conditional, on the account), then deletes the
 *   marker if it is still that generation: a hold that came in between put a newer marker, which stays.
 * - a marker whose account has no `openGen` (a hold refused after its put, a sweep that died between its two
 *   writes) is deleted by the sweeper once older than ORPHAN_MARKER_AFTER_MS, if unchanged: a hold between its put
 *   and its write is young, and one that waited long re-puts its marker first (MARKER_REFRESH_AFTER_MS).
 */
export const OPEN_MARKER_SK = "OPEN";
export const OPEN_MARKER_PREFIX = "OPEN#";
export const openMarkerKey = (accountId: string) => ({ pk: `${OPEN_MARKER_PREFIX}${accountId}`, sk: OPEN_MARKER_SK });

/** A marker found with no `openGen` on its account is deleted by the sweeper once older than this. */
export const ORPHAN_MARKER_AFTER_MS = 10 * 60_000;
/** A hold re-puts its marker (fresh `at`) before its write when this long has passed since it put it. */
export const MARKER_REFRESH_AFTER_MS = 60_000;

export const OpenMarker = z.object({ gen: z.string().min(1).max(64), at: z.number().int() });
export type OpenMarker = z.infer<typeof OpenMarker>;

export interface MarkerTable {
  readonly db: DynamoDBDocumentClient;
  readonly table: string;
}

/** Puts a new generation of the account's marker (`at`: the caller's clock, compared with the sweeper's `now`). */
export async function putOpenMarker(t: MarkerTable, accountId: string, at: number): Promise<OpenMarker> {
  const marker: OpenMarker = { gen: randomUUID(), at };
  await t.db.send(
    new PutCommand({
      TableName: t.table,
      Item: {
        ...openMarkerKey(accountId),
        accountId,
        ...marker,
        gsi1pk: `OPENHOLD#${shardOf(accountId)}`,
        gsi1sk: accountId,
      },
    }),
  );
  return marker;
}

/** Deletes the account's marker if it is still `marker` (its generation, and its `at` when given); true if gone. */
export async function deleteOpenMarker(
  t: MarkerTable,
  accountId: string,
  marker: { readonly gen: string; readonly at?: number },
): Promise<boolean> {
  return written(
    t.db.send(
      new DeleteCommand({
        TableName: t.table,
        Key: openMarkerKey(accountId),
        ConditionExpression: marker.at === undefined ? "gen = :gen" : "gen = :gen AND #at = :at",
        ...(marker.at === undefined ? {} : { ExpressionAttributeNames: { "#at": "at" } }),
        ExpressionAttributeValues: { ":gen": marker.gen, ...(marker.at === undefined ? {} : { ":at": marker.at }) },
      }),
    ),
  );
}
