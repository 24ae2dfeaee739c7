import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/lib-dynamodb";

/** Shared DynamoDB helpers for the table adapters (jobs, keys, ledger, scores). */

export type Item = Record<string, unknown>;

/** The error of a failed ConditionExpression (the same name on DynamoDB and dynalite). */
export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === "ConditionalCheckFailedException";
}

/** A conditional write's outcome: true when it was written, false when its condition failed (other errors throw). */
export async function written(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/**
 * Writes `item` only if no item has its key yet: true when written, false when one was there (an idempotent create:
 * a retried or redelivered write finds its own first one).
 */
export async function putIfAbsent(db: DynamoDBDocumentClient, table: string, item: Item): Promise<boolean> {
  try {
    await db.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : "unknown";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const BATCH_GET_LIMIT = 100;

export interface BatchGetOptions {
  /** Rounds of re-requesting UnprocessedKeys (throttling) before giving up. Default 6 (~3 s of backoff). */
  readonly retries?: number;
  readonly consistentRead?: boolean;
}

/**
 * BatchGetItem over any number of keys: chunks of 100, UnprocessedKeys retried with exponential backoff.
 * Throws when keys stay unprocessed, rather than silently returning fewer items than exist.
 */
export async function batchGetAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Item[],
  options: BatchGetOptions = {},
): Promise<Item[]> {
  const retries = options.retries ?? 6;
  const items: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let pending: Item[] = keys.slice(start, start + BATCH_GET_LIMIT);
    for (let round = 0; pending.length > 0; round++) {
      if (round > retries) throw new Error(`BatchGetItem: ${pending.length} key(s) of ${tableName} stayed unprocessed`);
      if (round > 0) await sleep(Math.min(1_000, 25 * 2 ** round));
      const output = await doc.send(
        new BatchGetCommand({
          RequestItems: { [tableName]: { Keys: pending, ConsistentRead: options.consistentRead ?? true } },
        }),
      );
      items.push(...(output.Responses?.[tableName] ?? []));
      pending = output.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return items;
}

/**
 * The items a keys-only index's answer names, read from the table in the index's order (BatchGetItem answers in
 * any order), eventually consistent as the index itself is; one deleted since (or gone with its TTL) is left out.
 */
export async function itemsOfIndex(
  doc: DynamoDBDocumentClient,
  tableName: string,
  indexItems: readonly Item[],
): Promise<Item[]> {
  const id = (item: Item) => `${String(item.pk)}\u0000${String(item.sk)}`;
  const keys = indexItems.map((item) => ({ pk: item.pk, sk: item.sk }));
  const items = await batchGetAll(doc, tableName, keys, { consistentRead: false });
  const byKey = new Map<string, Item>(items.map((item) => [id(item), item]));
  return indexItems.flatMap((item) => {
    const found = byKey.get(id(item));
    return found ? [found] : [];
  });
}

/** Every page of a Query. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Item | undefined;
  do {
    const output = await doc.send(new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    items.push(...(output.Items ?? []));
    startKey = output.LastEvaluatedKey;
  } while (startKey !== undefined);
  return items;
}

const BATCH_WRITE_LIMIT = 25;

/**
 * BatchWriteItem puts over any number of items: chunks of 25, UnprocessedItems retried with exponential backoff.
 * Throws when items stay unprocessed. Puts only: each item is written whole, so a repeated call is idempotent
 * when the items are.
 */
export async function batchPutAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: readonly Item[],
  retries = 6,
): Promise<void> {
  for (let start = 0; start < items.length; start += BATCH_WRITE_LIMIT) {
    let pending = items.slice(start, start + BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round > retries)
        throw new Error(`BatchWriteItem: ${pending.length} item(s) of ${tableName} stayed unprocessed`);
      if (round > 0) await sleep(Math.min(1_000, 25 * 2 ** round));
      const output = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (output.UnprocessedItems?.[tableName] ?? []).flatMap((r) =>
        r.PutRequest?.Item ? [{ PutRequest: { Item: r.PutRequest.Item } }] : [],
      );
    }
  }
}
