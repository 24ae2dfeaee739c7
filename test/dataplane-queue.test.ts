import { randomUUID } from "node:crypto";
import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSqsClient,
  createSqsPollClient,
  dropHandlerCache,
  emulatorClientOptions,
} from "../adapters/aws/clients.ts";
import { SQS_COALESCE_MS, SQS_DELETE_WINDOW_MS } from "../adapters/queue/coalescer.ts";
import { describeJobQueueContract, MAX_RECEIVE_COUNT, VISIBILITY_SECONDS } from "../adapters/queue/contract.ts";
import { ensureQueues } from "../adapters/queue/ensure.ts";
import { SendBatchError, SqsJobQueue } from "../adapters/queue/sqs.ts";
import { JOBS_DLQ, JOBS_QUEUE, QUEUES, type QueueDefinition } from "../infra/definitions.ts";
import { type Emulators, startEmulators } from "../stacks/ephemeral/emulators.ts";

let emulators: Emulators;
let sqs: SQSClient;

beforeAll(async () => {
  emulators = await startEmulators();
  sqs = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
});

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

// Short timeouts so the visibility and redrive tests take seconds.
const TEST_DLQ: QueueDefinition = { ...JOBS_DLQ, visibilityTimeoutSeconds: VISIBILITY_SECONDS, receiveWaitSeconds: 0 };
const TEST_QUEUE: QueueDefinition = {
  ...JOBS_QUEUE,
  visibilityTimeoutSeconds: VISIBILITY_SECONDS,
  receiveWaitSeconds: 0,
  deadLetter: { name: TEST_DLQ.name, maxReceiveCount: MAX_RECEIVE_COUNT },
};

describeJobQueueContract("SqsJobQueue on fauxqs", async () => {
  const prefix = `t${randomUUID().slice(0, 8)}-`;
  await ensureQueues(sqs, prefix, [TEST_QUEUE, TEST_DLQ]);
  return {
    // The DLQ name is left out on purpose: the adapter must find it through the RedrivePolicy.
    queue: new SqsJobQueue({ sqs, queueName: `${prefix}${TEST_QUEUE.name}` }),
    dlq: new SqsJobQueue({ sqs, queueName: `${prefix}${TEST_DLQ.name}` }),
  };
});

// The same contract with deletes and single sends gathered into batches (what the market's queues do).
describeJobQueueContract("SqsJobQueue on fauxqs, coalescing", async () => {
  const prefix = `c${randomUUID().slice(0, 8)}-`;
  await ensureQueues(sqs, prefix, [TEST_QUEUE, TEST_DLQ]);
  return {
    queue: new SqsJobQueue({
      sqs,
      queueName: `${prefix}${TEST_QUEUE.name}`,
      coalesceMs: SQS_COALESCE_MS,
      deleteWindowMs: SQS_DELETE_WINDOW_MS,
    }),
    dlq: new SqsJobQueue({ sqs, queueName: `${prefix}${TEST_DLQ.name}`, coalesceMs: SQS_COALESCE_MS }),
  };
});

/** An SQS client of its own that records the name of every command it sends. */
function countedClient() {
  const client = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize" },
  );
  return { client, calls };
}

describe("SqsJobQueue coalescing", () => {
  it("gathers deletes made over tens of ms into one request within deleteWindowMs (issue 17)", async () => {
    const prefix = `w${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [TEST_DLQ]);
    const { client, calls } = countedClient();
    // A window no run outlasts, so what is asserted does not hang on the timers' punctuality (a loaded machine
    // may take far more than 20 ms per gap); the tenth delete fills the batch and sends it.
    const queue = new SqsJobQueue({
      sqs: client,
      queueName: `${prefix}${TEST_DLQ.name}`,
      coalesceMs: SQS_COALESCE_MS,
      deleteWindowMs: 60_000,
    });
    await queue.sendMany(Array.from({ length: 10 }, (_, i) => `m${i}`));
    const received = [];
    while (received.length < 10) received.push(...(await queue.receive({ max: 10, waitSeconds: 1 })));
    calls.length = 0;
    const deletes: Promise<void>[] = [];
    for (const message of received) {
      expect(calls).toEqual([]);
      deletes.push(queue.delete(message.receipt));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Ten deletes 20 ms apart, far beyond the sends' 2 ms window: one request for all of them.
    await Promise.all(deletes);
    expect(calls).toEqual(["DeleteMessageBatchCommand"]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    client.destroy();
  });

  it("sends and deletes 12 single calls in two requests each", async () => {
    const prefix = `b${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [TEST_DLQ]);
    const { client, calls } = countedClient();
    const queue = new SqsJobQueue({ sqs: client, queueName: `${prefix}${TEST_DLQ.name}`, coalesceMs: 50 });
    await queue.url();
    calls.length = 0;
    const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
    await Promise.all(bodies.map((body) => queue.send(body)));
    expect(calls).toEqual(["SendMessageBatchCommand", "SendMessageBatchCommand"]);
    const received = [];
    while (received.length < 12) received.push(...(await queue.receive({ max: 10, waitSeconds: 1 })));
    expect(received.map((m) => m.body).sort()).toEqual([...bodies].sort());
    calls.length = 0;
    await Promise.all(received.map((m) => queue.delete(m.receipt)));
    expect(calls).toEqual(["DeleteMessageBatchCommand", "DeleteMessageBatchCommand"]);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    client.destroy();
  });
});

describe("ensureQueues", () => {
  it("creates the DLQ first, wires the redrive policy and is idempotent", async () => {
    const prefix = `e${randomUUID().slice(0, 8)}-`;
    const first = await ensureQueues(sqs, prefix, QUEUES);
    const second = await ensureQueues(sqs, prefix, QUEUES);
    expect([...first.values()].map((queue) => [queue.name, queue.created])).toEqual([
      [`${prefix}jobs-dlq`, true],
      [`${prefix}jobs`, true],
      [`${prefix}validation-dlq`, true],
      [`${prefix}validation`, true],
      [`${prefix}settle-dlq`, true],
      [`${prefix}settle`, true],
    ]);
    expect([...second.values()].map((queue) => queue.created)).toEqual([false, false, false, false, false, false]);
    expect(second.get("jobs")?.url).toBe(first.get("jobs")?.url);
    const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
    const url = first.get("jobs")?.url ?? "";
    const attributes = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })))
      .Attributes;
    expect(attributes?.VisibilityTimeout).toBe(String(JOBS_QUEUE.visibilityTimeoutSeconds));
    expect(JSON.parse(attributes?.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: first.get("jobs-dlq")?.arn,
      maxReceiveCount: JOBS_QUEUE.deadLetter?.maxReceiveCount,
    });
    // The validator's jobs dead-letter into their own DLQ, apart from clients' (issue 17).
    const validation = (
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: first.get("validation")?.url ?? "", AttributeNames: ["All"] }),
      )
    ).Attributes;
    expect(JSON.parse(validation?.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: first.get("validation-dlq")?.arn,
      maxReceiveCount: 5,
    });
  });

  it("rejects a dead-letter queue that is not defined", async () => {
    const orphan: QueueDefinition = { ...JOBS_QUEUE, deadLetter: { name: "nowhere", maxReceiveCount: 3 } };
    await expect(ensureQueues(sqs, "x-", [orphan])).rejects.toThrow(/nowhere/);
  });
});

/** Records the commands a client sends through a middleware added now; `reset` drops the client's cached stacks. */
function commandsOf(client: SQSClient, reset: boolean): string[] {
  const seen: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      seen.push(String(context.commandName).replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize" },
  );
  if (reset) dropHandlerCache(client);
  return seen;
}

describe("SQS clients' cached middleware (issue 17)", () => {
  it("caches each command's stack: a middleware added later is seen only after dropHandlerCache", async () => {
    const prefix = `m${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const client = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
    try {
      const queue = new SqsJobQueue({ sqs: client, queueName: `${prefix}${JOBS_DLQ.name}` });
      await queue.send("first");
      const late = commandsOf(client, false);
      await queue.send("second");
      expect(late).toEqual([]);
      const counted = commandsOf(client, true);
      await queue.send("third");
      expect(counted).toEqual(["SendMessage"]);
      expect(await queue.depth()).toEqual({ visible: 3, inFlight: 0 });
    } finally {
      client.destroy();
    }
  });

  it("a long poll given a signal goes through pollSqs, and leaves the sends' client its cache", async () => {
    const prefix = `l${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const sends = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
    const polls = createSqsPollClient(emulatorClientOptions(emulators.sqsEndpoint));
    try {
      const onSends = commandsOf(sends, false);
      const onPolls = commandsOf(polls, false);
      const queue = new SqsJobQueue({ sqs: sends, pollSqs: polls, queueName: `${prefix}${JOBS_DLQ.name}` });
      await queue.send("a");
      await queue.send("b");
      const signal = new AbortController().signal;
      expect((await queue.receive({ max: 1, waitSeconds: 1, signal })).map((m) => m.body)).toHaveLength(1);
      expect((await queue.receive({ max: 1, waitSeconds: 1 })).map((m) => m.body)).toHaveLength(1);
      expect(onPolls).toEqual(["ReceiveMessage"]);
      expect(onSends.filter((c) => c !== "GetQueueUrl")).toEqual(["SendMessage", "SendMessage", "ReceiveMessage"]);
      // The signalled poll did not drop the sends' cached stacks: a middleware added now is not seen by a send.
      const late = commandsOf(sends, false);
      await queue.send("c");
      expect(late).toEqual([]);
    } finally {
      sends.destroy();
      polls.destroy();
    }
  });
});

describe("SqsJobQueue", () => {
  it("works with the endpoint from AWS_ENDPOINT_URL_SQS, never the unresolvable host in the queue URL", async () => {
    const prefix = `v${randomUUID().slice(0, 8)}-`;
    const [queue] = [...(await ensureQueues(sqs, prefix, [JOBS_DLQ])).values()];
    expect(queue?.url).toContain("localhost");
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: emulators.sqsEndpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    });
    const fromEnv = createSqsClient();
    try {
      const jobs = new SqsJobQueue({ sqs: fromEnv, queueName: queue?.name ?? "" });
      await jobs.send("via-env");
      const [message] = await jobs.receive({ max: 1, waitSeconds: 1 });
      expect(message?.body).toBe("via-env");
    } finally {
      fromEnv.destroy();
      process.env = saved;
    }
  });

  it("sendMany splits large bodies into batches under the size limit", async () => {
    const prefix = `b${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const queue = new SqsJobQueue({ sqs, queueName: `${prefix}${JOBS_DLQ.name}` });
    // 10 bodies of 60 KiB exceed one 256 KiB batch: a single SendMessageBatch would be refused.
    const bodies = Array.from({ length: 10 }, (_, index) => `${index}:${"x".repeat(60 * 1024)}`);
    await queue.sendMany(bodies);
    expect(await queue.depth()).toEqual({ visible: 10, inFlight: 0 });
  });

  it("sendMany of concurrent queries' few jobs shares SendMessageBatch requests (group commit), none lost", async () => {
    const prefix = `g${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const counted = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
    let batches = 0;
    counted.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === "SendMessageBatchCommand") batches++;
        return next(args);
      },
      { step: "initialize", name: "countBatches" },
    );
    try {
      const queue = new SqsJobQueue({
        sqs: counted,
        queueName: `${prefix}${JOBS_DLQ.name}`,
        coalesceMs: 2,
        sendWindowMs: 0,
      });
      // 16 queries of 2 jobs each, sent at once: before, one request per query.
      const bodies = Array.from({ length: 16 }, (_, q) => [`q${q}-a`, `q${q}-b`]);
      await Promise.all(bodies.map((pair) => queue.sendMany(pair)));
      expect(batches).toBeLessThanOrEqual(4);
      const got: string[] = [];
      for (let batch = await queue.receive({ max: 10, waitSeconds: 1 }); batch.length > 0; ) {
        got.push(...batch.map((m) => m.body));
        batch = await queue.receive({ max: 10, waitSeconds: 0 });
      }
      expect(got.sort()).toEqual(bodies.flat().sort());
    } finally {
      counted.destroy();
    }
  });

  it("a body SQS keeps refusing fails its own query's sendMany only, not the others' sharing its batch", async () => {
    const prefix = `p${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const picky = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
    // The server refuses every entry whose body starts with "bad" and accepts the rest of the batch.
    picky.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "SendMessageBatchCommand") return next(args);
        const input = args.input as SendMessageBatchCommandInput;
        const entries = input.Entries ?? [];
        const refused = entries.filter((entry) => entry.MessageBody?.startsWith("bad"));
        const failed = refused.map((entry) => ({ Id: entry.Id, Code: "InvalidMessageContents", SenderFault: true }));
        const kept = entries.filter((entry) => !entry.MessageBody?.startsWith("bad"));
        if (kept.length === 0) return { output: { Successful: [], Failed: failed, $metadata: {} }, response: {} };
        const result = await next({ ...args, input: { ...input, Entries: kept } });
        (result.output as SendMessageBatchCommandOutput).Failed = failed;
        return result;
      },
      { step: "initialize", name: "refuseBadBodies" },
    );
    try {
      const queue = new SqsJobQueue({
        sqs: picky,
        queueName: `${prefix}${JOBS_DLQ.name}`,
        coalesceMs: 2,
        sendWindowMs: 0,
        batchRetries: 1,
      });
      // Two queries in the same turn: their jobs share one SendMessageBatch.
      const [bad, good] = await Promise.allSettled([queue.sendMany(["bad-q1"]), queue.sendMany(["q2-a", "q2-b"])]);
      expect(bad.status === "rejected" && bad.reason).toBeInstanceOf(SendBatchError);
      // q2's jobs reached the queue: its submit must not fail them (its client would get "failed" for a query the
      // workers then run, and the worker's answers would be refused).
      expect(good.status).toBe("fulfilled");
      const got: string[] = [];
      for (let batch = await queue.receive({ max: 10, waitSeconds: 1 }); batch.length > 0; ) {
        got.push(...batch.map((m) => m.body));
        batch = await queue.receive({ max: 10, waitSeconds: 0 });
      }
      expect(got.sort()).toEqual(["q2-a", "q2-b"]);
    } finally {
      picky.destroy();
    }
  });

  it("sendMany resends the entries a batch reports as failed, and throws when they keep failing", async () => {
    const prefix = `f${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const flaky = createSqsClient(emulatorClientOptions(emulators.sqsEndpoint));
    let failuresLeft = 1;
    // The server accepts all but the last 3 entries of a batch while `failuresLeft` lasts (throttling-like answer).
    flaky.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "SendMessageBatchCommand" || failuresLeft === 0) return next(args);
        failuresLeft--;
        const input = args.input as SendMessageBatchCommandInput;
        const entries = input.Entries ?? [];
        const refused = entries.slice(-3);
        const failed = refused.map((entry) => ({ Id: entry.Id, Code: "ThrottlingException", SenderFault: false }));
        if (refused.length === entries.length) {
          return { output: { Successful: [], Failed: failed, $metadata: {} }, response: {} };
        }
        const result = await next({ ...args, input: { ...input, Entries: entries.slice(0, -3) } });
        const output = result.output as SendMessageBatchCommandOutput;
        output.Failed = failed;
        return result;
      },
      { step: "initialize", name: "refuseSomeEntries" },
    );
    try {
      const queue = new SqsJobQueue({ sqs: flaky, queueName: `${prefix}${JOBS_DLQ.name}` });
      const bodies = Array.from({ length: 10 }, (_, index) => `job-${index}`);
      await queue.sendMany(bodies);
      const got = [];
      for (let batch = await queue.receive({ max: 10, waitSeconds: 1 }); batch.length > 0; ) {
        got.push(...batch);
        batch = await queue.receive({ max: 10, waitSeconds: 0 });
      }
      expect(got.map((message) => message.body).sort()).toEqual([...bodies].sort());

      failuresLeft = Number.POSITIVE_INFINITY;
      const failing = new SqsJobQueue({ sqs: flaky, queueName: `${prefix}${JOBS_DLQ.name}`, batchRetries: 2 });
      await expect(failing.sendMany(bodies)).rejects.toBeInstanceOf(SendBatchError);
    } finally {
      flaky.destroy();
    }
  });

  it("deadLetter fails clearly when the queue has no DLQ", async () => {
    const prefix = `n${randomUUID().slice(0, 8)}-`;
    await ensureQueues(sqs, prefix, [JOBS_DLQ]);
    const queue = new SqsJobQueue({ sqs, queueName: `${prefix}${JOBS_DLQ.name}` });
    await queue.send("x");
    const [message] = await queue.receive({ max: 1, waitSeconds: 1 });
    if (!message) throw new Error("no message");
    await expect(queue.deadLetter(message, "r")).rejects.toThrow(/no dead-letter queue/);
  });

  it("reports a missing queue as QueueDoesNotExist", async () => {
    const queue = new SqsJobQueue({ sqs, queueName: `missing-${randomUUID()}` });
    await expect(queue.depth()).rejects.toMatchObject({ name: "QueueDoesNotExist" });
  });
});
