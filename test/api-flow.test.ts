import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createSqsClient,
  emulatorClientOptions,
} from "../adapters/aws/clients.ts";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { ensureQueues } from "../adapters/queue/ensure.ts";
import { SqsJobQueue } from "../adapters/queue/sqs.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoJobStore } from "../adapters/tables/jobs.ts";
import { DynamoKeyStore } from "../adapters/tables/keys.ts";
import { DynamoLedger } from "../adapters/tables/ledger.ts";
import { DynamoRateLimits } from "../adapters/tables/rate-limits.ts";
import { DynamoRequestStore } from "../adapters/tables/requests.ts";
import { inProcessClient } from "../client/client.ts";
import { PLATFORM_PAYEE } from "../core/billing/schema.ts";
import { createApp } from "../functions/api/app.ts";
import { type ApiDeps, DEFAULT_CONFIG, systemClock } from "../functions/api/deps.ts";
import { topKRouter } from "../functions/api/router.ts";
import { DIGITS_PRICE, digitsCatalog } from "../functions/api/testing/digits-catalog.ts";
import {
  answerQueuedJobs,
  FAKE_WORKER_URI,
  type FakeExpert,
  fakeExperts,
  staticDirectory,
} from "../functions/api/testing/fake-experts.ts";
import { silentLogger, TEST_ADMIN_TOKEN } from "../functions/api/testing/memory-deps.ts";
import { JOBS_QUEUE, JOBS_TABLE, KEYS_TABLE, LEDGER_TABLE, QUEUES, TABLES } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

let emulators: Emulators;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
let experts: FakeExpert[];
let counter = 0;

beforeAll(async () => {
  await identityReady();
  emulators = await startEmulators();
  dynamo = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  sqs = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
  experts = fakeExperts(3);
});

afterAll(async () => {
  dynamo?.destroy();
  sqs?.destroy();
  await emulators?.stop();
});

/** A fresh prefix per test: its own tables and queue, so tests cannot see each other's jobs. */
async function stack(config: Partial<ApiDeps["config"]> = {}) {
  const prefix = `apiflow${counter++}-`;
  await ensureTables(dynamo, prefix, TABLES, { logger: () => {} });
  await ensureQueues(sqs, prefix, QUEUES);
  const doc = createDynamoDocumentClient(dynamo);
  const directory = staticDirectory(experts);
  const ledger = new DynamoLedger({ db: doc, table: `${prefix}${LEDGER_TABLE.name}` });
  const jobs = new DynamoJobStore({ doc, tableName: `${prefix}${JOBS_TABLE.name}` });
  const queue = new SqsJobQueue({ sqs, queueName: `${prefix}${JOBS_QUEUE.name}` });
  const deps: ApiDeps = {
    keys: new DynamoKeyStore(doc, `${prefix}${KEYS_TABLE.name}`),
    rateLimits: new DynamoRateLimits(doc, `${prefix}${LEDGER_TABLE.name}`),
    ledger,
    requests: new DynamoRequestStore(doc, `${prefix}${JOBS_TABLE.name}`),
    jobs,
    queue,
    tasks: digitsCatalog(),
    router: topKRouter(directory),
    directory,
    gatewaySigner: signerFromUri("//Gateway"),
    verifier: sr25519Verifier,
    workerKeys: [signerFromUri(FAKE_WORKER_URI).address],
    clock: systemClock,
    config: { ...DEFAULT_CONFIG, adminToken: TEST_ADMIN_TOKEN, pollInitialMs: 20, pollMaxMs: 200, ...config },
    logger: silentLogger,
  };
  const app = createApp(deps);
  const admin = inProcessClient(app, { adminToken: TEST_ADMIN_TOKEN });
  async function key(credits: number) {
    const created = await admin.createKey({ name: "it", credits, rateLimit: { perMinute: 1_000_000, burst: 100_000 } });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    return { ...created.data, client: inProcessClient(app, { apiKey: created.data.key }) };
  }
  /** The stand-in worker: reads the real queue and writes signed answers through the real JobStore. */
  function worker() {
    let running = true;
    const loop = (async () => {
      while (running) await answerQueuedJobs(queue, jobs, experts, { max: 10, waitSeconds: 1 });
    })();
    return async () => {
      running = false;
      await loop;
    };
  }
  return { deps, ledger, key, worker, queue };
}

describe("inference API on dynalite + fauxqs", () => {
  it("200 parallel queries on credits for exactly 100: 100 succeed, balance ends at 0, the ledger adds up", async () => {
    const s = await stack();
    const k = await s.key(100 * DIGITS_PRICE);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        k.client.infer("digits", { pixels: new Array(784).fill((i % 10) / 10) }, { k: 1, waitSeconds: 0 }),
      ),
    );
    const accepted = results.flatMap((r) => (r.ok && r.status === 202 ? [r.data.id] : []));
    const refused = results.filter((r) => !r.ok && r.status === 402).length;
    expect(accepted.length).toBe(100);
    expect(refused).toBe(100);
    const stop = s.worker();
    try {
      for (const id of accepted) {
        for (let attempt = 0; ; attempt++) {
          const job = await k.client.job(id);
          if (job.ok && job.data.status === "succeeded") break;
          if (attempt > 300 || (job.ok && ["failed", "expired", "canceled"].includes(job.data.status))) {
            throw new Error(`job ${id} did not succeed: ${JSON.stringify(job)}`);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      await stop();
    }
    const account = await s.ledger.getAccount(k.accountId);
    expect([account?.balance, account?.held, account?.spent]).toEqual([0, 0, 100 * DIGITS_PRICE]);
    const entries = await s.ledger.entries(k.accountId, 1000);
    const sum = (kind: string) => entries.filter((e) => e.kind === kind).reduce((t, e) => t + e.amount, 0);
    expect(sum("credit")).toBe(100 * DIGITS_PRICE);
    expect(sum("capture")).toBe(account?.spent);
    expect(sum("hold")).toBe(sum("capture") + sum("release"));
    expect(await s.ledger.openHolds(k.accountId)).toEqual([]);
    // Every captured fee was shared out: 10% to the platform, the rest to the experts, nothing created or lost
    // (once the sweeper has rolled up the last settled queries: earnings lag by one sweep at most).
    await s.ledger.sweepHolds(Date.now());
    const earned = await Promise.all(experts.map((e) => s.ledger.payeeBalance(e.hotkey)));
    const platform = await s.ledger.payeeBalance(PLATFORM_PAYEE);
    expect(platform).toBe(100 * (DIGITS_PRICE / 10));
    expect(platform + earned.reduce((t, x) => t + x, 0)).toBe(account?.spent);
  });

  it("the same request sent 5 times with one Idempotency-Key is one job, charged once", async () => {
    const s = await stack();
    const k = await s.key(10 * DIGITS_PRICE);
    const stop = s.worker();
    const input = { pixels: new Array(784).fill(0.3) };
    try {
      const responses = await Promise.all(
        Array.from({ length: 5 }, () =>
          k.client.infer("digits", input, { k: 2, waitSeconds: 20, idempotencyKey: "one-and-only" }),
        ),
      );
      const ids = new Set(responses.map((r) => (r.ok ? r.data.id : `error ${r.status}`)));
      expect(ids.size).toBe(1);
      const final = await k.client.infer("digits", input, { k: 2, waitSeconds: 20, idempotencyKey: "one-and-only" });
      expect(final.ok && final.status).toBe(200);
    } finally {
      await stop();
    }
    const account = await s.ledger.getAccount(k.accountId);
    expect([account?.balance, account?.spent]).toEqual([8 * DIGITS_PRICE, 2 * DIGITS_PRICE]);
  });

  it("with no worker running a query expires, nothing is charged and the balance is unchanged", async () => {
    const s = await stack({ jobDeadlineSeconds: 1 });
    const k = await s.key(10 * DIGITS_PRICE);
    const res = await k.client.infer("digits", { pixels: new Array(784).fill(0.1) }, { k: 3, waitSeconds: 3 });
    expect(res.ok && [res.status, res.data.status]).toEqual([200, "expired"]);
    const usage = await k.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held, usage.data.spent]).toEqual([10 * DIGITS_PRICE, 0, 0]);
  });
});
