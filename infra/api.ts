import { apiEnvironment } from "./environment";
import { functionName, lambdaRole, modelUploads, onTable, readObjects, readParameters, sendTo } from "./iam";
import { modelStore } from "./models";
import { jobs } from "./queue";
import { secrets } from "./secrets";
import { retentionName, stage } from "./stage";
import { tables } from "./tables";

const name = functionName("api");

/**
 * The API's authority, from the stores it holds (functions/market/stores.ts) and the calls its routes make: keys
 * (create with rollback, look up, revoke), the ledger (accounts, holds, captures, shares: every ledger command),
 * jobs + requests on the jobs table (no Query: the API fetches its jobs by id), scores read-only (router, weights,
 * submissions), sending jobs, and reading the expert directory (functions/market/cloud.ts). The shared per-key rate
 * limit (adapters/tables/rate-limits.ts) is one UpdateItem on the ledger table. It cannot receive or delete jobs,
 * write scores, read a model or read the validator's mnemonic.
 */
export const apiStatements = [
  // Query on gsi1 and Scan: GET /v1/keys (one account's keys, or all of them).
  onTable(tables.keys, [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
  ]),
  onTable(tables.ledger, [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    // A settle that rolls settled holds up writes their durable records in batches (adapters/tables/ledger-holds.ts).
    "dynamodb:BatchWriteItem",
  ]),
  onTable(tables.jobs, [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchGetItem",
    // GET /v1/jobs: an account's requests' keys on gsi1 (keys-only), then the requests by BatchGetItem.
    "dynamodb:Query",
  ]),
  onTable(tables.scores, ["dynamodb:GetItem", "dynamodb:Query"]),
  sendTo(jobs),
  readParameters(secrets.AdminToken.parameter, secrets.GatewayMnemonic.parameter),
  readObjects(modelStore, ["directory"]),
  ...modelUploads(modelStore),
];

/** The Hono app on Lambda behind a function URL (streaming-capable, no API Gateway timeout of 29 s). */
export const api = new sst.aws.Function("Api", {
  name,
  handler: "functions/api/lambda.handler",
  runtime: "nodejs22.x",
  url: true,
  timeout: "40 seconds",
  memory: "1024 MB",
  role: lambdaRole("Api", name, apiStatements).arn,
  environment: apiEnvironment,
  logging: { retention: retentionName(stage.logRetentionDays) },
  // The dashboard's Vite build (GET /, /assets/*): `npm run build:web` runs before `sst deploy` (test/global-setup
  // builds it for the bundle tests).
  copyFiles: [{ from: "web/dist", to: "web/dist" }],
});
