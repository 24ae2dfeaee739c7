import { SETTLE_QUEUE } from "./definitions";
import { settlerEnvironment } from "./environment";
import { allow, functionName, lambdaRole, onTable, readObjects, readParameters } from "./iam";
import { modelStore } from "./models";
import { settle } from "./queue";
import { secrets } from "./secrets";
import { retentionName, stage } from "./stage";
import { tables } from "./tables";

const name = functionName("settler");

/**
 * The settler (functions/settler/lambda.handler): consumes the settle queue and captures a query's charge once its
 * last answer is in (functions/api/flow/settle.ts). What that calls:
 * - jobs table: the request with its jobs by id in one BatchGetItem (the notice names the experts' uids; GetItem
 *   for a notice without them), its settle mark (UpdateItem), expiring or cancelling the open ones, and storing the
 *   answers a notice carried unstored when it does not settle the query then (UpdateItem); never the index;
 * - ledger: capture or release the hold with the experts' shares (UpdateItem), and every few settles roll the
 *   account's settled holds up (adapters/tables/ledger-holds.ts: BatchWriteItem of their records, Get/Put/Update of
 *   payees' items; BatchGetItem when markers are pruned, adapters/tables/ledger-items.ts getItems; Query on gsi1);
 * - scores: the validator's weights the fee is split by (GetItem/Query, through the expert directory), and the
 *   exploration lane's shadow answers it records (PutItem of `SHADOW#<hotkey>` items, functions/api/flow/shadow.ts);
 * - the expert directory in the model store, the gateway mnemonic that signs receipts;
 * - the settle queue: what Lambda's event source mapping calls with the function's role (receive, delete the
 *   batch's successes, extend visibility, read the queue's attributes).
 */
export const settlerStatements = [
  // PutItem: a settled query's webhook message into the outbox (functions/api/flow/after-settle.ts).
  onTable(tables.jobs, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem"]),
  onTable(tables.ledger, [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
  ]),
  onTable(tables.scores, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]),
  allow(
    ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
    [settle.arn],
  ),
  readParameters(secrets.GatewayMnemonic.parameter),
  readObjects(modelStore, ["directory"]),
];

/** Given as `role`, so SST attaches no permission of its own: this list is the settler's whole authority. */
export const settlerSubscriber = settle.subscribe(
  {
    name,
    handler: "functions/settler/lambda.handler",
    runtime: "nodejs22.x",
    // Lambda requires the queue's visibility timeout to be at least the function's timeout: tied to the definition.
    timeout: `${SETTLE_QUEUE.visibilityTimeoutSeconds} seconds`,
    memory: "1024 MB",
    role: lambdaRole("Settler", name, settlerStatements).arn,
    environment: settlerEnvironment,
    logging: { retention: retentionName(stage.logRetentionDays) },
  },
  { batch: { size: 10, partialResponses: true } },
);
