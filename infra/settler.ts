import { settlerEnvironment } from "./environment";
import { functionName, lambdaRole, onTable } from "./iam";
import { settle } from "./queue";
import { retentionName, stage } from "./stage";
import { tables } from "./tables";

const name = functionName("settler");

/**
 * The settler (functions/settler/lambda.handler, another branch's code): consumes the settle queue and captures a
 * query's charge once its last answer is in. It reads and writes the jobs table (requests, jobs by request on
 * gsi1) and the ledger (capture or release the hold, credit the experts' shares). The queue actions are what
 * Lambda's event source mapping calls with the function's role (SST's own subscriber grants the same set).
 */
export const settlerStatements = [
  onTable(tables.jobs, ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchGetItem"]),
  onTable(tables.ledger, [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
  ]),
  {
    Effect: "Allow" as const,
    Action: [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
    ],
    Resource: [settle.arn],
  },
];

/** Given as `role`, so SST attaches no permission of its own: this list is the settler's whole authority. */
export const settlerSubscriber = settle.subscribe(
  {
    name,
    handler: "functions/settler/lambda.handler",
    runtime: "nodejs22.x",
    timeout: "30 seconds",
    role: lambdaRole("Settler", name, settlerStatements).arn,
    environment: settlerEnvironment,
    logging: { retention: retentionName(stage.logRetentionDays) },
  },
  { batch: { size: 10, partialResponses: true } },
);
