import { sweeperEnvironment } from "./environment";
import { functionName, lambdaRole, onTable, sendTo } from "./iam";
import { settle } from "./queue";
import { retentionName, stage } from "./stage";
import { tables } from "./tables";

const name = functionName("sweeper");

/**
 * DynamoLedger.sweepHolds: queries the shards of accounts with holds on gsi1, reads each account, releases expired
 * holds (update) and rolls settled ones up (adapters/tables/ledger-holds.ts: their records by BatchWriteItem, payees'
 * balances by update and their journal pages by BatchWriteItem, BatchGetItem when markers are pruned). Before releasing an expired hold
 * it reads the hold's request and its jobs (functions/settler/settler.ts keepAnsweredHolds: GetItem, BatchGetItem
 * on the jobs table) and, when an answer is in, hands the request to the settler (SendMessage on the settle queue).
 */
export const sweeperStatements = [
  onTable(tables.ledger, [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    // The earlier ledger's open hold items, once moved onto their accounts (adapters/tables/ledger-legacy.ts).
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
  ]),
  // The webhook outbox: due messages' keys on gsi1 (Query; keys-only), the messages (BatchGetItem), claimed and
  // recorded (UpdateItem); keys: each message's secret.
  onTable(tables.jobs, ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem"]),
  onTable(tables.keys, ["dynamodb:GetItem"]),
  sendTo(settle),
];

export const sweeperFunction = new sst.aws.Function("HoldSweeper", {
  name,
  handler: "functions/api/sweeper.handler",
  runtime: "nodejs22.x",
  timeout: "50 seconds",
  role: lambdaRole("HoldSweeper", name, sweeperStatements).arn,
  environment: sweeperEnvironment,
  // Two sweeps at once would race on the same holds for nothing.
  concurrency: { reserved: 1 },
  retries: 0,
  logging: { retention: retentionName(stage.logRetentionDays) },
});

/** Settles holds left between two writes (crash, timeout) every minute. */
export const sweeper = new sst.aws.CronV2("HoldSweeperTick", {
  schedule: "rate(1 minute)",
  function: sweeperFunction,
  retries: 0,
});
