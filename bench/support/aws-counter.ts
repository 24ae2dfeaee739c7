import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { dropHandlerCache } from "../../adapters/aws/clients.ts";
import { TABLES } from "../../infra/definitions.ts";
import { IndexWriteModel } from "./index-model.ts";

/**
 * AWS list prices used to price a query (us-east-1, on-demand DynamoDB since the November 2024 price cut, SQS
 * standard queue beyond the free tier). `ddbWrites`/`ddbReads` count items written and read (a write unit per item
 * up to 1 KB, a read per item up to 4 KB; transactions two per item); the price uses the units DynamoDB reports,
 * which grow with the items' sizes (`ddbWriteUnitsBilled`), plus the global indexes' copies the emulator leaves out
 * (`ddbIndexWriteUnits`, modelled).
 */
export const PRICES = { ddbWritePerMillion: 0.625, ddbReadPerMillion: 0.125, sqsPerMillion: 0.4 } as const;

export interface AwsCounts {
  /** Write request units (a conditional write that fails is billed too). */
  readonly ddbWrites: number;
  readonly ddbReads: number;
  /** HTTP calls to DynamoDB (batches and transactions count once). */
  readonly ddbCalls: number;
  /**
   * Capacity units as DynamoDB reports them (ReturnConsumedCapacity TOTAL, asked for by the counter): by item size
   * (a write unit per KB of the larger of the item before and after, a read unit per 4 KB, half for an eventually
   * consistent read). dynalite leaves out the global secondary indexes' units, which AWS adds for an item that
   * carries an index key (the ledger's account item while it has holds: projection ALL, its whole size again).
   */
  readonly ddbWriteUnitsBilled: number;
  readonly ddbReadUnitsBilled: number;
  /** Write units of the global indexes' copies, which the emulator leaves out: modelled (index-model.ts). */
  readonly ddbIndexWriteUnits: number;
  /** SQS API requests (a batch of up to 10 messages is one request). */
  readonly sqsRequests: number;
  /** Messages sent to the clients' jobs queue (routed and shadow jobs; not validation jobs or settle notices). */
  readonly jobMessages: number;
  /** Calls by command name, for the breakdown. */
  readonly byCommand: Readonly<Record<string, number>>;
}

interface Tally {
  ddbWrites: number;
  ddbReads: number;
  ddbCalls: number;
  ddbWriteUnitsBilled: number;
  ddbReadUnitsBilled: number;
  ddbIndexWriteUnits: number;
  sqsRequests: number;
  jobMessages: number;
  byCommand: Record<string, number>;
}

type Input = Record<string, unknown>;
const size = (x: unknown) => (Array.isArray(x) ? x.length : 0);
const sumValues = (x: unknown, f: (v: unknown) => number) =>
  x && typeof x === "object" ? Object.values(x).reduce<number>((n, v) => n + f(v), 0) : 0;

/** The table a call names (the resource prefix cut off): which store the calls come from. */
function tableOf(input: Input): string {
  const name = typeof input.TableName === "string" ? input.TableName : Object.keys(input.RequestItems ?? {})[0];
  return (name ?? "?").replace(/^t[a-z0-9]{6}-/, "");
}

/** Messages a send puts on the clients' jobs queue (its physical name ends in `jobs`: the prefix is cut off). */
function jobMessagesOf(command: string, input: Input): number {
  const queue = typeof input.QueueUrl === "string" ? (input.QueueUrl.split("/").pop() ?? "") : "";
  if (!/(^|-)jobs$/.test(queue)) return 0;
  if (command === "SendMessageBatchCommand") return size(input.Entries);
  return command === "SendMessageCommand" ? 1 : 0;
}

/** [read units, write units] one DynamoDB call is billed. */
function ddbUnits(command: string, input: Input): [number, number] {
  switch (command) {
    case "GetItemCommand":
    case "QueryCommand":
    case "ScanCommand":
      return [1, 0];
    case "BatchGetItemCommand":
      return [sumValues(input.RequestItems, (v) => size((v as { Keys?: unknown }).Keys)), 0];
    case "TransactGetItemsCommand":
      return [2 * size(input.TransactItems), 0];
    case "PutItemCommand":
    case "UpdateItemCommand":
    case "DeleteItemCommand":
      return [0, 1];
    case "BatchWriteItemCommand":
      return [0, sumValues(input.RequestItems, size)];
    case "TransactWriteItemsCommand":
      return [0, 2 * size(input.TransactItems)];
    default:
      return [0, 0]; // table management (DescribeTable, CreateTable): not per query
  }
}

function zeroCounts(): Tally {
  return {
    ddbWrites: 0,
    ddbReads: 0,
    ddbCalls: 0,
    ddbWriteUnitsBilled: 0,
    ddbReadUnitsBilled: 0,
    ddbIndexWriteUnits: 0,
    sqsRequests: 0,
    jobMessages: 0,
    byCommand: {},
  };
}

/** Whether a table (by its physical name: `<prefix><name>`) has a keys-only index (infra/definitions.ts). */
function keysOnlyIndex(table: string): boolean {
  return TABLES.some(
    (def) => table.endsWith(def.name) && def.globalIndexes.some((index) => index.projection === "keys-only"),
  );
}

/**
 * Counts every call the clients send from now on, by an SDK middleware at the initialize step. `sqs`: every SQS
 * client of the market (the sends' and the long polls', SqsJobQueueOptions.pollSqs).
 */
export function countAwsCalls(sqs: readonly SQSClient[], dynamo: DynamoDBClient) {
  const tally: Tally = zeroCounts();
  const indexes = new IndexWriteModel(keysOnlyIndex);
  const byName = (name: string) => {
    tally.byCommand[name] = (tally.byCommand[name] ?? 0) + 1;
  };
  for (const client of sqs) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        tally.sqsRequests++;
        byName(`sqs:${context.commandName}`);
        tally.jobMessages += jobMessagesOf(String(context.commandName), (args.input ?? {}) as Input);
        return next(args);
      },
      { step: "initialize", name: "benchSqsCounter" },
    );
    // The commands the market sent before now must see the counter too (cacheMiddleware).
    dropHandlerCache(client);
  }
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName);
      const input = (args.input ?? {}) as Input;
      const [reads, writes] = ddbUnits(command, input);
      tally.ddbReads += reads;
      tally.ddbWrites += writes;
      tally.ddbCalls++;
      byName(`ddb:${command.replace(/Command$/, "")}:${tableOf(input)}`);
      const billed = writes > 0 || reads > 0;
      if (billed) input.ReturnConsumedCapacity = "TOTAL";
      const result = await next(args);
      if (billed) {
        const units = consumedUnits((result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity);
        if (writes > 0) {
          tally.ddbWriteUnitsBilled += units;
          tally.ddbIndexWriteUnits += indexes.units(command, input, units);
        } else tally.ddbReadUnitsBilled += units;
      }
      return result;
    },
    { step: "initialize", name: "benchDynamoCounter" },
  );
  return {
    snapshot: (): AwsCounts => ({ ...tally, byCommand: { ...tally.byCommand } }),
    /** What was sent since `before`. */
    since(before: AwsCounts): AwsCounts {
      return combine(tally, before, -1);
    },
  };
}

/** The units of a ConsumedCapacity answer (one object, or one per table of a batch). */
function consumedUnits(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce<number>((n, c) => n + Number((c as { CapacityUnits?: unknown }).CapacityUnits ?? 0), 0);
}

/** a + f * b, field by field, never below zero (a background estimate may exceed a short window's count). */
export function combine(a: AwsCounts, b: AwsCounts, f: number): AwsCounts {
  const byCommand: Record<string, number> = {};
  for (const name of new Set([...Object.keys(a.byCommand), ...Object.keys(b.byCommand)])) {
    const v = (a.byCommand[name] ?? 0) + f * (b.byCommand[name] ?? 0);
    if (v > 1e-9) byCommand[name] = v;
  }
  const at = (x: number, y: number) => Math.max(0, x + f * y);
  return {
    ddbWrites: at(a.ddbWrites, b.ddbWrites),
    ddbReads: at(a.ddbReads, b.ddbReads),
    ddbCalls: at(a.ddbCalls, b.ddbCalls),
    ddbWriteUnitsBilled: at(a.ddbWriteUnitsBilled, b.ddbWriteUnitsBilled),
    ddbReadUnitsBilled: at(a.ddbReadUnitsBilled, b.ddbReadUnitsBilled),
    ddbIndexWriteUnits: at(a.ddbIndexWriteUnits, b.ddbIndexWriteUnits),
    sqsRequests: at(a.sqsRequests, b.sqsRequests),
    jobMessages: at(a.jobMessages, b.jobMessages),
    byCommand,
  };
}

export const scaled = (c: AwsCounts, f: number): AwsCounts => combine(zeroCounts(), c, f);

export function dollarsPer1000(c: AwsCounts): number {
  return (
    (1000 *
      ((c.ddbWriteUnitsBilled + c.ddbIndexWriteUnits) * PRICES.ddbWritePerMillion +
        c.ddbReadUnitsBilled * PRICES.ddbReadPerMillion +
        c.sqsRequests * PRICES.sqsPerMillion)) /
    1e6
  );
}
