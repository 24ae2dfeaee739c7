import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  type AwsClientOptions,
  createDynamoClient,
  createDynamoDocumentClient,
  createSqsClient,
  createSqsPollClient,
  emulatorClientOptions,
} from "../../adapters/aws/clients.ts";
import type { Logger } from "../../adapters/log/logger.ts";
import { ensureQueues } from "../../adapters/queue/ensure.ts";
import { ensureTables } from "../../adapters/tables/ensure.ts";
import type { MarketConfig } from "../../core/config/schema.ts";
import { type MarketStores, marketStores } from "../../functions/market/stores.ts";
import { QUEUES, TABLES } from "../../infra/definitions.ts";
import { startEmulators } from "../ephemeral/emulators.ts";

export interface DataPlane extends MarketStores {
  /** Endpoints the child processes must use (undefined: the standard AWS settings apply). */
  readonly sqsEndpoint: string | undefined;
  readonly dynamoEndpoint: string | undefined;
  /** Which emulators this process started (and will stop). */
  readonly emulated: { readonly sqs: boolean; readonly dynamo: boolean };
  /** The emulators' OS thread id (Linux), for a benchmark's CPU split; undefined without emulators here. */
  readonly emulatorThreadId: number | undefined;
  readonly sqs: SQSClient;
  /** The queues' long polls (SqsJobQueueOptions.pollSqs): no cached middleware, sockets apart from the sends'. */
  readonly pollSqs: SQSClient;
  readonly dynamo: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/**
 * Queues and tables: on the servers named by AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_DYNAMODB when set (any
 * SQS/DynamoDB-compatible server, or AWS itself), else on emulators started here. Either way whatever is missing
 * is created from infra/definitions.ts, so local and cloud share one definition.
 */
export async function startDataPlane(config: MarketConfig, dataDir: string | null, log: Logger): Promise<DataPlane> {
  const needSqs = config.AWS_ENDPOINT_URL_SQS === undefined;
  const needDynamo = config.AWS_ENDPOINT_URL_DYNAMODB === undefined;
  const emulators =
    needSqs || needDynamo ? await startEmulators(dataDir === null ? {} : { dataDir: join(dataDir, "dynamo") }) : null;
  const sqsEndpoint = needSqs ? emulators?.sqsEndpoint : config.AWS_ENDPOINT_URL_SQS;
  const dynamoEndpoint = needDynamo ? emulators?.dynamoEndpoint : config.AWS_ENDPOINT_URL_DYNAMODB;
  const options = (emulated: boolean, endpoint: string | undefined): AwsClientOptions =>
    emulated && endpoint
      ? emulatorClientOptions(endpoint)
      : { ...(endpoint ? { endpoint } : {}), region: config.AWS_REGION };

  const sqs = createSqsClient(options(needSqs, sqsEndpoint));
  const pollSqs = createSqsPollClient(options(needSqs, sqsEndpoint));
  const dynamo = createDynamoClient(options(needDynamo, dynamoEndpoint));
  const doc = createDynamoDocumentClient(dynamo);
  const prefix = config.MARKET_RESOURCE_PREFIX;
  const adapterLog = log.child("data-plane");
  await ensureQueues(sqs, prefix, QUEUES);
  await ensureTables(dynamo, prefix, TABLES, { logger: (msg, fields) => adapterLog.info(msg, fields) });
  log.info("queues and tables ready", {
    sqs: needSqs ? `fauxqs ${sqsEndpoint}` : sqsEndpoint,
    dynamodb: needDynamo
      ? `dynalite ${dynamoEndpoint}${dataDir ? ` (data in ${join(dataDir, "dynamo")})` : " (memory)"}`
      : dynamoEndpoint,
  });

  const stores = marketStores(
    sqs,
    dynamo,
    prefix,
    (what, error) => adapterLog.warn("corrupt score item ignored", { what, error: String(error) }),
    pollSqs,
  );
  return {
    sqsEndpoint,
    dynamoEndpoint,
    emulated: { sqs: needSqs, dynamo: needDynamo },
    emulatorThreadId: emulators?.osThreadId,
    sqs,
    pollSqs,
    dynamo,
    doc,
    ...stores,
    async stop() {
      sqs.destroy();
      pollSqs.destroy();
      dynamo.destroy();
      await emulators?.stop();
    },
  };
}
