import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropHandlerCache } from "../adapters/aws/clients.ts";
import { sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { countAwsCalls } from "../bench/support/aws-counter.ts";
import { createMarketClient } from "../client/client.ts";
import { verifySignedAnswer } from "../core/jobs/answer-batch.ts";
import type { AnswerProof } from "../core/jobs/integrity.ts";
import { DIGITS_PRICE } from "../core/tasks/digits.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

/**
 * One paid query through every real part: HTTP API -> credit hold -> SQS (fauxqs) -> worker (real ONNX model,
 * answer signed by the expert's hotkey) -> DynamoDB (dynalite) -> combination -> capture -> signed receipt.
 */
describe("a paid query end to end on an ephemeral market", () => {
  let market: EphemeralMarket;
  beforeAll(async () => {
    // No exploration lane: its shadow jobs would make the call counts below depend on chance.
    market = await startEphemeralMarket({ env: { MARKET_EXPLORE_SHARE: "0" } });
  });
  afterAll(async () => {
    await market?.stop();
  });

  it("answers a digit, charges exactly the cost, and keeps each expert's signed answer in the result", async () => {
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({ name: "e2e", credits: 50_000 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });

    const mnist = await loadMnist();
    const row = mnist.labels.indexOf(3);
    const pixels = Array.from(mnist.pixels.subarray(row * 784, (row + 1) * 784));
    const answer = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 20 });
    if (!answer.ok) throw new Error(JSON.stringify(answer.problem));
    expect(answer.status).toBe(200);
    const result = answer.data as {
      id: string;
      output: { probs: number[] };
      experts: {
        uid: number;
        hotkey: string;
        gate: number;
        signature: string;
        signedBody: string;
        signatureTimestamp: string;
        signatureUuid: string;
        signedBy: string;
        signedFor: string;
        answerProof: AnswerProof;
      }[];
      cost: number;
      receipt: unknown;
    };
    expect(result.output.probs).toHaveLength(10);
    expect(result.output.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(result.experts).toHaveLength(2);
    expect(result.cost).toBe(2 * 1000);

    // Each expert's answer verifies from the response alone (RECEIPTS.md): its body, proof and the Epistula fields,
    // signed by one of the market's serving keys, for the request's own job of that expert.
    for (const e of result.experts) {
      expect(market.workers.servingKeys).toContain(e.signedBy);
      const signature = {
        version: "2" as const,
        timestamp: e.signatureTimestamp,
        uuid: e.signatureUuid,
        signedBy: e.signedBy,
        signedFor: e.signedFor,
        signature: e.signature,
      };
      // Signed by one of the market's own workers (its serving key), never with the miner's hotkey secret.
      expect(e.signedBy).not.toBe(e.hotkey);
      const now = Number(e.signatureTimestamp);
      expect(verifySignedAnswer(sr25519Verifier, e.signedBody, signature, e.answerProof, { now }).ok).toBe(true);
      expect(JSON.parse(e.signedBody)).toMatchObject({ jobId: `${result.id}:${e.uid}`, hotkey: e.hotkey });
      const other = { ...signature, signedBy: market.chain.gateway.address };
      expect(verifySignedAnswer(sr25519Verifier, e.signedBody, other, e.answerProof, { now }).ok).toBe(false);
    }

    const verdict = await client.verifyReceipt(result.receipt, result.output);
    expect(verdict.ok && verdict.data.valid).toBe(true);
    const forged = await client.verifyReceipt(result.receipt, { probs: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
    expect(forged.ok && forged.data.valid).toBe(false);

    const usage = await client.usage();
    if (!usage.ok) throw new Error(JSON.stringify(usage.problem));
    expect(usage.data.balance).toBe(50_000 - result.cost);
    expect(usage.data.openHolds).toHaveLength(0);

    const job = await client.job(result.id);
    if (!job.ok) throw new Error(JSON.stringify(job.problem));
    expect(job.data.status).toBe("succeeded");
    // The worker ran both jobs together, so its notice carried both answers and nobody wrote a job record (issue 17):
    // the answers live in the result above.
    const ids = result.experts.map((e) => `${result.id}:${e.uid}`);
    expect(await market.dataPlane.jobs.getMany(ids)).toEqual([]);
  });

  it("a query the balance cannot cover leaves no request behind (a random id's record is written after its hold)", async () => {
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    // One answer's price: past the API's pre-check (it asks for one), refused by the hold of two.
    const created = await admin.createKey({ name: "poor", credits: DIGITS_PRICE });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const refused = await client.infer("digits", { pixels: Array(784).fill(0) }, { k: 2, waitSeconds: 0 });
    expect(!refused.ok && [refused.status, refused.problem.code]).toEqual([402, "insufficient_credits"]);
    const listed = await client.listJobs();
    expect(listed.ok && listed.data.data).toEqual([]);
  });

  it("costs the jobs and keys tables 2 writes, and all tables at most 3 items read, per query at k = 2 (issue 17)", async () => {
    const admin = createMarketClient({ baseUrl: market.url, adminToken: market.adminToken });
    const created = await admin.createKey({ name: "calls", credits: 50_000 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = createMarketClient({ baseUrl: market.url, apiKey: created.data.key });
    const mnist = await loadMnist();
    const query = async (row: number) => {
      const pixels = Array.from(mnist.pixels.subarray(row * 784, (row + 1) * 784));
      const answer = await client.infer("digits", { pixels }, { k: 2, waitSeconds: 20 });
      if (!answer.ok || answer.status !== 200) throw new Error(JSON.stringify(answer));
    };
    await query(0); // the key's first read
    const counts = countAwsCalls([market.dataPlane.sqs, market.dataPlane.pollSqs], market.dataPlane.dynamo);
    const before = counts.snapshot();
    // Settle notices, by the entries sent to the settle queue.
    let notices = 0;
    let pollsOnSendsClient = 0;
    market.dataPlane.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { QueueUrl?: string; Entries?: unknown[] };
        if (context.commandName === "SendMessageBatchCommand" && input.QueueUrl?.endsWith("settle"))
          notices += input.Entries?.length ?? 0;
        if (context.commandName === "ReceiveMessageCommand") pollsOnSendsClient++;
        return next(args);
      },
      { step: "initialize", name: "countSettleNotices" },
    );
    // The market's SQS client caches each command's middleware (cacheMiddleware): the counter is seen once this drops it.
    dropHandlerCache(market.dataPlane.sqs);
    const QUERIES = 4;
    for (let i = 1; i <= QUERIES; i++) await query(i);
    // One notice per query, sent when its worker has both answers in (settle-notices.ts), none per job.
    await new Promise((r) => setTimeout(r, 200));
    expect(notices).toBe(QUERIES);
    // The worker's and the settler's long polls go through the data plane's poll client, keeping the sends' cache.
    expect(pollsOnSendsClient).toBe(0);
    expect(counts.since(before).byCommand["sqs:ReceiveMessageCommand"]).toBeGreaterThanOrEqual(2 * QUERIES);
    // Every call on these tables for a query is made before its answer is returned (the settle write comes first).
    const calls = counts.since(before).byCommand;
    const on = (table: string, ...commands: string[]) =>
      commands.reduce((n, c) => n + (calls[`ddb:${c}:${table}`] ?? 0), 0) / QUERIES;
    // The request item (put, result), and nothing for the answers: the worker ran the query's two jobs together, so
    // its notice carried both unstored and the result holds them (settle-notices.ts). No job creates, no 'running'
    // marks, and no phase move (a random request id's record starts dispatched).
    expect(on("jobs", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")).toBe(2);
    // The settler's one read of the request (the notice carries both answers, so no job is read back). The worker
    // reads nothing: it runs a first delivery on the query's facts its gateway signed in the messages (issue 17).
    // The wait reads nothing more. (Up to 1.5: a query's jobs taken in two receives send two notices, each read by
    // the settler, and a redelivered job reads its request; a worker that read every request would make it 2.)
    expect(on("jobs", "GetItem", "BatchGetItem")).toBeGreaterThanOrEqual(1);
    expect(on("jobs", "GetItem", "BatchGetItem")).toBeLessThanOrEqual(1.5);
    // Items read, as DynamoDB bills reads (issue 17: at most 3 per k = 2 query): the request's one read, and the
    // ledger's occasional payee read.
    const read = counts.since(before);
    expect(read.ddbReads / QUERIES).toBeLessThanOrEqual(3);
    // Each of those reads is of one item: the settler no longer reads the jobs back with the request.
    const readCalls = Object.entries(read.byCommand)
      .filter(([name]) => /^ddb:(GetItem|BatchGetItem|Query|Scan):/.test(name))
      .reduce((n, [, count]) => n + count, 0);
    expect(read.ddbReads).toBe(readCalls);
    // No account read per query: the paid-gate remembers the account could pay a moment ago, and the hold and
    // settle are conditional writes (what is left is the payee rollup's occasional read).
    expect(on("ledger", "GetItem", "BatchGetItem", "Query")).toBeLessThan(1);
    // The valid key is cached by the API (validKeyCacheMs).
    expect(on("keys", "GetItem", "Query")).toBe(0);
  });
});
