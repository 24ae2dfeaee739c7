// Integration-test plumbing: fauxqs + dynalite in this process, the jobs queue/DLQ/table created from
// infra/definitions.ts (with test-sized visibility and receive counts), and the real SQS/Dynamo adapters on them.
import { randomUUID } from "node:crypto";
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createSqsClient,
  createSqsPollClient,
  emulatorClientOptions,
} from "../../adapters/aws/clients.ts";
import { ensureQueues } from "../../adapters/queue/ensure.ts";
import { SqsJobQueue } from "../../adapters/queue/sqs.ts";
import { ensureTables } from "../../adapters/tables/ensure.ts";
import { DynamoJobStore } from "../../adapters/tables/jobs.ts";
import { JOBS_DLQ, JOBS_QUEUE, JOBS_TABLE, physicalName } from "../../infra/definitions.ts";
import { startEmulators } from "../../stacks/ephemeral/emulators.ts";

export interface EmulatedJobs {
  readonly prefix: string;
  readonly queue: SqsJobQueue;
  /** The dead-letter queue, as a queue to read from. */
  readonly dlq: SqsJobQueue;
  readonly jobs: DynamoJobStore;
  /** Environment for a child worker process (AWS SDK settings + the resource prefix). */
  readonly env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEmulatedJobs(opts: {
  visibilitySeconds: number;
  maxReceiveCount: number;
}): Promise<EmulatedJobs> {
  // Node 20 is supported by the pinned SDK; the notice about 2027 releases is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const emulators = await startEmulators();
  const prefix = `wt${randomUUID().slice(0, 8)}-`;
  const sqs = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
  // The consumers' signalled long polls on a client of their own, as the worker process has (main.ts).
  const pollSqs = createSqsPollClient(emulatorClientOptions(emulators.sqsEndpoint));
  const dynamo = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  const doc = createDynamoDocumentClient(dynamo);
  await ensureQueues(sqs, prefix, [
    JOBS_DLQ,
    {
      ...JOBS_QUEUE,
      visibilityTimeoutSeconds: opts.visibilitySeconds,
      deadLetter: { name: JOBS_DLQ.name, maxReceiveCount: opts.maxReceiveCount },
    },
  ]);
  await ensureTables(dynamo, prefix, [JOBS_TABLE], { logger: () => {} });
  const queue = new SqsJobQueue({
    sqs,
    pollSqs,
    queueName: physicalName(prefix, JOBS_QUEUE.name),
    deadLetterQueueName: physicalName(prefix, JOBS_DLQ.name),
  });
  const dlq = new SqsJobQueue({ sqs, pollSqs, queueName: physicalName(prefix, JOBS_DLQ.name) });
  const jobs = new DynamoJobStore({ doc, tableName: physicalName(prefix, JOBS_TABLE.name), logger: () => {} });
  return {
    prefix,
    queue,
    dlq,
    jobs,
    env: {
      AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: emulators.dynamoEndpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      MARKET_RESOURCE_PREFIX: prefix,
    },
    async stop() {
      sqs.destroy();
      pollSqs.destroy();
      doc.destroy();
      dynamo.destroy();
      await emulators.stop();
    },
  };
}

/** Creates job records with bounded parallelism (dynalite is one process; 1,000 at once only queue up). */
export async function createAll(
  jobs: DynamoJobStore,
  records: readonly Parameters<DynamoJobStore["create"]>[0][],
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < records.length; i = next++) {
      const record = records[i];
      if (record !== undefined) await jobs.create(record);
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

/** All records by id, in chunks of 100 (BatchGet's limit). */
export async function getAll(jobs: DynamoJobStore, ids: readonly string[]) {
  const out = [];
  for (let i = 0; i < ids.length; i += 100) out.push(...(await jobs.getMany(ids.slice(i, i + 100))));
  return out;
}
