import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDynamoClient, createDynamoDocumentClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureTables } from "../adapters/tables/ensure.ts";
import { DynamoJobStore } from "../adapters/tables/jobs.ts";
import { describeJobStoreContract, makeAnswer, makeJob, paidStyleJobId } from "../adapters/tables/jobs-contract.ts";
import { jobKey } from "../adapters/tables/jobs-keys.ts";
import { DynamoRequestStore } from "../adapters/tables/requests.ts";
import { DynamoScoreStore } from "../adapters/tables/scores.ts";
import { scoreStoreContract } from "../adapters/tables/scores-contract.ts";
import { JOBS_TABLE, SCORES_TABLE, TABLES } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

let emulators: Emulators;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const PREFIX = "it-";
const JOBS = `${PREFIX}${JOBS_TABLE.name}`;
const ttlLogger = vi.fn();

beforeAll(async () => {
  emulators = await startEmulators();
  client = createDynamoClient(emulatorClientOptions(emulators.dynamoEndpoint));
  doc = createDynamoDocumentClient(client);
  await ensureTables(client, PREFIX, TABLES, { logger: ttlLogger });
});

afterAll(async () => {
  client?.destroy();
  await emulators?.stop();
});

describeJobStoreContract("DynamoJobStore on dynalite", () => new DynamoJobStore({ doc, tableName: JOBS }));
describeJobStoreContract(
  "DynamoJobStore on dynalite, paid jobs (one item per request)",
  () => new DynamoJobStore({ doc, tableName: JOBS }),
  paidStyleJobId,
);
scoreStoreContract(
  "DynamoScoreStore on dynalite",
  async () => new DynamoScoreStore(doc, `${PREFIX}${SCORES_TABLE.name}`),
);

describe("DynamoRequestStore on dynalite (issue 17: one read per worker receive, no read after the settle write)", () => {
  const request = (requestId: string) => ({
    requestId,
    accountId: "acct",
    keyId: "key",
    task: "digits",
    bodySha256: "",
    inputDigest: "d".repeat(64),
    experts: [{ uid: 1, hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", gate: 1 }],
    pricePerAnswer: 10,
    holdAmount: 10,
    phase: "dispatched" as const,
    createdAt: Date.now(),
    deadline: Date.now() + 60_000,
  });

  it("getMany reads the records asked for, each once, and leaves missing ones out", async () => {
    const store = new DynamoRequestStore(doc, JOBS);
    const ids = ["req-many-a", "req-many-b"];
    for (const id of ids) expect(await store.create(request(id))).toBe(true);
    const got = await store.getMany([...ids, "req-many-a", "req-missing"]);
    expect(got.map((r) => r.requestId).sort()).toEqual(ids);
    expect(got[0]).toEqual(await store.get(got[0]?.requestId ?? ""));
  });

  it("getWithJobs reads the request and its jobs in one BatchGetItem, as get and the JobStore's getMany read them", async () => {
    const store = new DynamoRequestStore(doc, JOBS);
    const jobs = new DynamoJobStore({ doc, tableName: JOBS });
    await store.create(request("req-with-jobs"));
    const ids = ["req-with-jobs:1", "req-with-jobs:2"];
    for (const jobId of ids) await jobs.create(makeJob({ jobId, uid: Number(jobId.slice(-1)) }));
    const send = vi.spyOn(doc, "send");
    const read = await store.getWithJobs("req-with-jobs", [...ids, "req-with-jobs:3", ids[0] ?? ""]);
    expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(["BatchGetCommand"]);
    send.mockRestore();
    expect(read.record).toEqual(await store.get("req-with-jobs"));
    expect(read.jobs).toEqual(await jobs.getMany(ids));
    expect(read.jobs).toHaveLength(2);
    expect(await store.getWithJobs("req-missing", ["req-missing:1"])).toEqual({ record: null, jobs: [] });
  });

  it("a paid request's jobs are one item beside it: answered together in one write, read with it as two items", async () => {
    const store = new DynamoRequestStore(doc, JOBS);
    const jobs = new DynamoJobStore({ doc, tableName: JOBS });
    const requestId = paidStyleJobId().split(":")[0] ?? "";
    await store.create({ ...request(requestId), experts: [] });
    const bases = [1, 2].map((uid) =>
      makeJob({ jobId: `${requestId}:${uid}`, requestId, uid, inputDigest: "d".repeat(64), attempts: 1 }),
    );
    const send = vi.spyOn(doc, "send");
    const stored = await jobs.completeMany(
      bases.map((base) => ({ jobId: base.jobId, answer: makeAnswer("w1"), at: base.createdAt + 1, base })),
    );
    expect(stored.map((t) => t.status === "fulfilled" && t.value.ok)).toEqual([true, true]);
    expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(["UpdateCommand"]);
    send.mockClear();
    const read = await store.getWithJobs(
      requestId,
      bases.map((b) => b.jobId),
    );
    expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(["BatchGetCommand"]);
    const input = send.mock.calls[0]?.[0].input as { RequestItems?: Record<string, { Keys: unknown[] }> } | undefined;
    const keys = input?.RequestItems ?? {};
    expect(Object.values(keys)[0]?.Keys ?? []).toEqual([
      { pk: `REQ#${requestId}`, sk: "REQ" },
      { pk: `REQ#${requestId}`, sk: "JOBS" },
    ]);
    send.mockRestore();
    expect(read.jobs).toEqual(stored.map((t) => (t.status === "fulfilled" ? t.value.job : null)));
    const item = (
      await doc.send(
        new GetCommand({ TableName: JOBS, Key: { pk: `REQ#${requestId}`, sk: "JOBS" }, ConsistentRead: true }),
      )
    ).Item;
    expect(Object.keys(item ?? {}).sort()).toEqual(["expireAt", "j1", "j2", "pk", "sk"]);
  });

  it("completeMany apart: a job whose own write fails is the only one failed", async () => {
    const jobs = new DynamoJobStore({ doc, tableName: JOBS });
    const requestId = paidStyleJobId().split(":")[0] ?? "";
    const bases = [1, 2, 3].map((uid) =>
      makeJob({ jobId: `${requestId}:${uid}`, requestId, uid, inputDigest: "d".repeat(64), attempts: 1 }),
    );
    const [one, two, three] = bases;
    if (!one || !two || !three) throw new Error("unreachable");
    // The third was canceled first: the write of all three is refused, and each goes alone.
    expect((await jobs.cancel(three.jobId, three.createdAt + 1, three)).ok).toBe(true);
    const send = doc.send.bind(doc);
    const spy = vi.spyOn(doc, "send").mockImplementation((async (command: { input?: unknown }) => {
      const names = (command.input as { ExpressionAttributeNames?: Record<string, string> }).ExpressionAttributeNames;
      if (names && Object.keys(names).length === 1 && names["#s0"] === "j2") {
        throw Object.assign(new Error("Rate exceeded"), { name: "ProvisionedThroughputExceededException" });
      }
      return send(command as never);
    }) as never);
    const results = await jobs.completeMany(
      bases.map((base) => ({ jobId: base.jobId, answer: makeAnswer("w1"), at: base.createdAt + 2, base })),
    );
    spy.mockRestore();
    expect(results.map((r) => (r.status === "fulfilled" ? [r.value.ok, r.value.job?.status] : r.reason.name))).toEqual([
      [true, "succeeded"],
      "ProvisionedThroughputExceededException",
      [false, "canceled"],
    ]);
    expect((await jobs.getMany(bases.map((b) => b.jobId))).map((j) => j.status)).toEqual(["succeeded", "canceled"]);
  });

  it("settle returns the stored record; a second result loses to the first", async () => {
    const store = new DynamoRequestStore(doc, JOBS);
    await store.create(request("req-settle"));
    const first = { status: "failed" as const, experts: [], failedUids: [1], cost: 0, settledAt: 1 };
    const stored = await store.settle("req-settle", first);
    expect(stored).toMatchObject({ requestId: "req-settle", phase: "settled", result: first });
    expect(stored).toEqual(await store.get("req-settle"));
    expect((await store.settle("req-settle", { ...first, settledAt: 2 }))?.result).toEqual(first);
  });

  it("discard deletes a request without a hold, keeps one a cancel took over, and says which", async () => {
    const store = new DynamoRequestStore(doc, JOBS);
    await store.create({ ...request("req-discard"), phase: "holding" });
    expect(await store.discard("req-discard")).toBe("discarded");
    expect(await store.get("req-discard")).toBeNull();
    expect(await store.discard("req-discard")).toBe("absent");
    await store.create({ ...request("req-discard-kept"), phase: "holding" });
    expect((await store.setPhase("req-discard-kept", ["holding"], "canceling"))?.phase).toBe("canceling");
    expect(await store.discard("req-discard-kept")).toBe("kept");
    expect((await store.get("req-discard-kept"))?.phase).toBe("canceling");
  });
});

describe("ensureTables", () => {
  it("is idempotent and builds pay-per-request tables with gsi1 projecting as defined (keys only on jobs)", async () => {
    const again = await ensureTables(client, PREFIX, TABLES, { logger: ttlLogger });
    expect([...again.values()]).toEqual(TABLES.map((table) => ({ name: `${PREFIX}${table.name}`, created: false })));
    const { Table } = await client.send(new DescribeTableCommand({ TableName: JOBS }));
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(Table?.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.Projection?.ProjectionType])).toEqual([
      ["gsi1", "KEYS_ONLY"],
    ]);
    const scores = (await client.send(new DescribeTableCommand({ TableName: `${PREFIX}${SCORES_TABLE.name}` }))).Table;
    expect(scores?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.Projection?.ProjectionType])).toEqual(
      [["gsi1", "ALL"]],
    );
  });

  it("says once that dynalite has no TTL, however many tables want one", () => {
    expect(ttlLogger).toHaveBeenCalledTimes(1);
    expect(ttlLogger.mock.calls[0]?.[0]).toMatch(/TTL/);
  });

  it("reports new tables, and an existing table whose missing index the server will not add", async () => {
    await client.send(
      new CreateTableCommand({
        TableName: "old-jobs",
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      }),
    );
    // Real DynamoDB adds the index with UpdateTable; dynalite ignores that silently, which must not pass unnoticed.
    await expect(ensureTables(client, "old-", [JOBS_TABLE], { logger: () => {} })).rejects.toThrow(
      /old-jobs lacks index gsi1/,
    );
    const fresh = await ensureTables(client, "fresh-", [JOBS_TABLE], { logger: () => {} });
    expect(fresh.get("jobs")).toEqual({ name: "fresh-jobs", created: true });
  });
});

describe("DynamoJobStore items", () => {
  it("stay out of the table's index, created, running or answered (issue 17: no index copy of each write on AWS)", async () => {
    const store = new DynamoJobStore({ doc, tableName: JOBS });
    const job = makeJob();
    await store.create(job);
    await store.markRunning(job.jobId, "w1", 1);
    const paid = makeJob();
    await store.complete(paid.jobId, makeAnswer("w1"), 2, { ...paid, status: "running" });
    for (const { jobId } of [job, paid]) {
      const item = (await doc.send(new GetCommand({ TableName: JOBS, Key: jobKey(jobId), ConsistentRead: true }))).Item;
      expect(item?.jobId).toBe(jobId);
      expect(Object.keys(item ?? {}).filter((name) => name.startsWith("gsi"))).toEqual([]);
    }
  });
});

describe("DynamoJobStore on bad or old items", () => {
  it("reads a corrupt item as absent and logs it, without throwing", async () => {
    const logger = vi.fn();
    const store = new DynamoJobStore({ doc, tableName: JOBS, logger });
    await doc.send(
      new PutCommand({ TableName: JOBS, Item: { pk: "JOB#corrupt", sk: "JOB", jobId: "corrupt", status: "weird" } }),
    );
    expect(await store.get("corrupt")).toBeNull();
    expect(await store.getMany(["corrupt"])).toEqual([]);
    expect(await store.markRunning("corrupt", "w1", 1)).toEqual({ ok: false, job: null });
    expect(logger).toHaveBeenCalled();
    expect(logger.mock.calls[0]?.[1]).toMatchObject({ pk: "JOB#corrupt" });
  });

  it("treats a record past its expireAt as absent, and lets a new job take its id", async () => {
    const job = makeJob();
    const now = new DynamoJobStore({ doc, tableName: JOBS, retentionSeconds: 60 });
    await now.create(job);
    const later = new DynamoJobStore({ doc, tableName: JOBS, retentionSeconds: 60, now: () => job.deadline + 61_000 });
    expect(await now.get(job.jobId)).not.toBeNull();
    expect(await later.get(job.jobId)).toBeNull();
    const renewed = { ...job, task: "again", deadline: job.deadline + 120_000 };
    expect(await later.create(renewed)).toBe(true);
    expect((await later.get(job.jobId))?.task).toBe("again");
  });
});

describe("dynalite on disk", () => {
  it("keeps tables and items across a restart with the same data folder", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "dataplane-"));
    try {
      const job = makeJob();
      const first = await startEmulators({ dataDir });
      const firstClient = createDynamoClient(emulatorClientOptions(first.dynamoEndpoint));
      try {
        await ensureTables(firstClient, PREFIX, [JOBS_TABLE], { logger: () => {} });
        const store = new DynamoJobStore({ doc: createDynamoDocumentClient(firstClient), tableName: JOBS });
        await store.create(job);
        await store.markRunning(job.jobId, "w1", job.createdAt + 1);
      } finally {
        firstClient.destroy();
        await first.stop();
      }
      const second = await startEmulators({ dataDir });
      const secondClient = createDynamoClient(emulatorClientOptions(second.dynamoEndpoint));
      try {
        const ensured = await ensureTables(secondClient, PREFIX, [JOBS_TABLE], { logger: () => {} });
        expect(ensured.get("jobs")?.created).toBe(false);
        const store = new DynamoJobStore({ doc: createDynamoDocumentClient(secondClient), tableName: JOBS });
        expect(await store.get(job.jobId)).toEqual({
          ...job,
          status: "running",
          attempts: 1,
          workerId: "w1",
          startedAt: job.createdAt + 1,
        });
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
