import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createDynamoDocumentClient } from "../../adapters/aws/clients.ts";
import { SQS_COALESCE_MS, SQS_DELETE_WINDOW_MS } from "../../adapters/queue/coalescer.ts";
import { SqsJobQueue } from "../../adapters/queue/sqs.ts";
import { DynamoJobStore } from "../../adapters/tables/jobs.ts";
import { DynamoKeyStore } from "../../adapters/tables/keys.ts";
import { DynamoLedger } from "../../adapters/tables/ledger.ts";
import { DynamoRateLimits } from "../../adapters/tables/rate-limits.ts";
import { DynamoRequestStore } from "../../adapters/tables/requests.ts";
import { DynamoScoreStore } from "../../adapters/tables/scores.ts";
import { DynamoSpendStore } from "../../adapters/tables/spend.ts";
import { DynamoWebhookOutbox } from "../../adapters/tables/webhooks.ts";
import {
  JOBS_DLQ,
  JOBS_QUEUE,
  JOBS_TABLE,
  KEYS_TABLE,
  LEDGER_TABLE,
  physicalName,
  SCORES_TABLE,
  SETTLE_DLQ,
  SETTLE_QUEUE,
  VALIDATION_DLQ,
  VALIDATION_QUEUE,
} from "../../infra/definitions.ts";

export interface MarketStores {
  /** Clients' paid jobs, to the workers. */
  readonly queue: SqsJobQueue;
  /** The validator's jobs, to the workers, which take them after paid jobs (a bounded share of their slots). */
  readonly validationQueue: SqsJobQueue;
  /** Settle notices (`{v:1, requestId, uids?, answers?}`, core/jobs/settle-notice.ts) from the workers to the settler. */
  readonly settleQueue: SqsJobQueue;
  readonly jobs: DynamoJobStore;
  readonly keys: DynamoKeyStore;
  readonly ledger: DynamoLedger;
  /** The API's shared per-key rate limit, on the ledger table (TTL'd items). */
  readonly rateLimits: DynamoRateLimits;
  readonly requests: DynamoRequestStore;
  readonly scores: DynamoScoreStore;
  /** Per-key spend counters, on the ledger table (like the rate limits). */
  readonly spend: DynamoSpendStore;
  /** Webhook messages waiting to be sent, on the jobs table. */
  readonly webhooks: DynamoWebhookOutbox;
}

/**
 * Every store of the market over one SQS and one DynamoDB client, named from infra/definitions.ts with the
 * stage's prefix: what the local stack, the Lambda functions and the validator all build, so they cannot disagree
 * on a table or queue name.
 */
export function marketStores(
  sqs: SQSClient,
  dynamo: DynamoDBClient,
  prefix: string,
  onCorrupt: (what: string, error: unknown) => void = () => {},
  /** The client of the queues' long polls (SqsJobQueueOptions.pollSqs), for a process that runs consumers. */
  pollSqs: SQSClient = sqs,
): MarketStores {
  const doc = createDynamoDocumentClient(dynamo);
  const name = (logical: string) => physicalName(prefix, logical);
  return {
    queue: new SqsJobQueue({
      sqs,
      pollSqs,
      queueName: name(JOBS_QUEUE.name),
      deadLetterQueueName: name(JOBS_DLQ.name),
      coalesceMs: SQS_COALESCE_MS,
      sendWindowMs: 0,
      deleteWindowMs: SQS_DELETE_WINDOW_MS,
    }),
    validationQueue: new SqsJobQueue({
      sqs,
      pollSqs,
      queueName: name(VALIDATION_QUEUE.name),
      deadLetterQueueName: name(VALIDATION_DLQ.name),
      coalesceMs: SQS_COALESCE_MS,
      deleteWindowMs: SQS_DELETE_WINDOW_MS,
    }),
    settleQueue: new SqsJobQueue({
      sqs,
      pollSqs,
      queueName: name(SETTLE_QUEUE.name),
      deadLetterQueueName: name(SETTLE_DLQ.name),
      coalesceMs: SQS_COALESCE_MS,
      // A worker sends one notice per request once its jobs there are done (settle-notices.ts): nothing to wait for.
      sendWindowMs: 0,
      deleteWindowMs: SQS_DELETE_WINDOW_MS,
      dedupeSends: true,
    }),
    jobs: new DynamoJobStore({ doc, tableName: name(JOBS_TABLE.name) }),
    keys: new DynamoKeyStore(doc, name(KEYS_TABLE.name)),
    ledger: new DynamoLedger({ db: doc, table: name(LEDGER_TABLE.name) }),
    rateLimits: new DynamoRateLimits(doc, name(LEDGER_TABLE.name)),
    requests: new DynamoRequestStore(doc, name(JOBS_TABLE.name)),
    scores: new DynamoScoreStore(doc, name(SCORES_TABLE.name), onCorrupt),
    spend: new DynamoSpendStore(doc, name(LEDGER_TABLE.name)),
    webhooks: new DynamoWebhookOutbox(doc, name(JOBS_TABLE.name)),
  };
}
