import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../adapters/log/logger.ts";
import { MemoryJobQueue } from "../adapters/queue/memory.ts";
import type { JobQueue, ReceivedMessage } from "../core/ports/queue.ts";
import { Consumer, type ConsumerLane } from "./consumer.ts";
import { WorkerMetrics } from "./metrics.ts";
import { waitFor } from "./testing/jobs.ts";

/*
 * The consumer's lanes (issue 17): clients' paid jobs and the validator's jobs on separate queues, each lane with its
 * own slots. The handler here is a fake that records what it was given and when it may finish; the queues are the
 * in-memory JobQueue with SQS semantics.
 */

const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop(1000)));
});

interface Handled {
  readonly body: string;
  readonly lane: "paid" | "validation";
}

function start(
  paid: MemoryJobQueue,
  validation: MemoryJobQueue,
  opts: {
    paidSlots: number;
    validationSlots: number;
    validationSlotsWhenPaidIdle?: number;
    handle: (m: ReceivedMessage, q: JobQueue) => Promise<void>;
  },
) {
  const lanes: ConsumerLane[] = [
    { name: "paid", queue: paid, concurrency: opts.paidSlots, pollers: 1 },
    {
      name: "validation",
      queue: validation,
      concurrency: opts.validationSlots,
      ...(opts.validationSlotsWhenPaidIdle === undefined
        ? {}
        : { concurrencyWhenOthersIdle: opts.validationSlotsWhenPaidIdle }),
      pollers: 1,
    },
  ];
  const consumer = new Consumer({
    lanes,
    handle: opts.handle,
    metrics: new WorkerMetrics(),
    logger: silentLogger,
    waitSeconds: 1,
    visibilitySeconds: 30,
    heartbeatSeconds: 5,
    maxJobMs: 60_000,
  });
  consumers.push(consumer);
  consumer.start();
  return consumer;
}

describe("Consumer lanes", () => {
  it("takes a paid job while a backlog of validation jobs waits: validation holds only its own few slots", async () => {
    const paid = new MemoryJobQueue();
    const validation = new MemoryJobQueue();
    await validation.sendMany(Array.from({ length: 50 }, (_, i) => `validation-${i}`));
    const handled: Handled[] = [];
    let releaseValidation = () => {};
    const validationHeld = new Promise<void>((resolve) => {
      releaseValidation = resolve;
    });
    start(paid, validation, {
      paidSlots: 8,
      validationSlots: 2,
      handle: async (message, queue) => {
        const lane = queue === paid ? "paid" : "validation";
        handled.push({ body: message.body, lane });
        // Validation work stays busy until released: the test sees the lane full, not already drained.
        if (lane === "validation") await validationHeld;
        await queue.delete(message.receipt);
      },
    });
    await waitFor("validation to fill its slots", async () => handled.length === 2);
    await paid.send("paid-0");
    await waitFor("the paid job to be handled", async () => handled.some((h) => h.body === "paid-0"));

    // The paid job came before 48 validation jobs that were queued ahead of it: they never left their queue.
    expect(handled.filter((h) => h.lane === "validation")).toHaveLength(2);
    expect((await validation.depth()).visible).toBe(48);
    expect(handled.find((h) => h.body === "paid-0")?.lane).toBe("paid");

    releaseValidation();
    await waitFor("every validation job to be handled", async () => (await validation.depth()).visible === 0);
    await waitFor("every validation job to be acked", async () => (await validation.depth()).inFlight === 0);
    expect(handled.filter((h) => h.lane === "validation")).toHaveLength(50);
  });

  it("still answers every validation job while clients keep the paid queue full (no starvation)", async () => {
    const paid = new MemoryJobQueue();
    const validation = new MemoryJobQueue();
    await paid.sendMany(Array.from({ length: 20 }, (_, i) => `paid-${i}`));
    await validation.sendMany(Array.from({ length: 30 }, (_, i) => `validation-${i}`));
    let paidHandled = 0;
    const validationDone = new Set<string>();
    start(paid, validation, {
      paidSlots: 4,
      validationSlots: 1,
      handle: async (message, queue) => {
        if (queue === paid) {
          // Every answered query brings the next: the paid queue is never empty while this test runs.
          paidHandled++;
          await paid.send(`paid-${20 + paidHandled}`);
        } else {
          validationDone.add(message.body);
        }
        await new Promise((resolve) => setImmediate(resolve));
        await queue.delete(message.receipt);
      },
    });
    await waitFor("every validation job to be answered", async () => validationDone.size === 30);
    expect((await paid.depth()).visible).toBeGreaterThan(0);
    expect(paidHandled).toBeGreaterThan(0);
  });

  it("lets validation use more slots while no paid job waits, and still takes a paid job at once", async () => {
    const paid = new MemoryJobQueue();
    const validation = new MemoryJobQueue();
    await validation.sendMany(Array.from({ length: 50 }, (_, i) => `validation-${i}`));
    const handled: Handled[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    start(paid, validation, {
      paidSlots: 8,
      validationSlots: 2,
      validationSlotsWhenPaidIdle: 12,
      handle: async (message, queue) => {
        const lane = queue === paid ? "paid" : "validation";
        handled.push({ body: message.body, lane });
        if (lane === "validation") await held;
        await queue.delete(message.receipt);
      },
    });
    // No client: validation fills the larger cap, not only its own 2 slots.
    await waitFor("validation to fill the idle cap", async () => handled.length === 12);
    await paid.send("paid-0");
    await waitFor("the paid job to be handled", async () => handled.some((h) => h.body === "paid-0"));
    expect(handled.filter((h) => h.lane === "validation")).toHaveLength(12);
    release();
    await waitFor("every validation job to be acked", async () => {
      const depth = await validation.depth();
      return depth.visible + depth.inFlight === 0;
    });
  });

  it("acks and heartbeats each message on the queue it came from", async () => {
    const paid = new MemoryJobQueue();
    const validation = new MemoryJobQueue();
    await paid.send("paid-0");
    await validation.send("validation-0");
    const seen: [string, boolean][] = [];
    start(paid, validation, {
      paidSlots: 2,
      validationSlots: 2,
      handle: async (message, queue) => {
        seen.push([message.body, queue === (message.body.startsWith("paid") ? paid : validation)]);
        // A receipt of one queue is unknown to the other: acking on the wrong queue would throw here.
        await queue.extendVisibility(message.receipt, 30);
        await queue.delete(message.receipt);
      },
    });
    await waitFor("both handled", async () => seen.length === 2);
    expect(seen.sort()).toEqual([
      ["paid-0", true],
      ["validation-0", true],
    ]);
    await waitFor("both acked", async () => {
      const [p, v] = await Promise.all([paid.depth(), validation.depth()]);
      return p.inFlight + p.visible + v.inFlight + v.visible === 0;
    });
  });
});

/** One poller on `counted` (a view of `queue`) that lingers a minute after a receive that brought messages. */
function startLingering(queue: MemoryJobQueue, counted: JobQueue, concurrency: number) {
  const handled: string[] = [];
  const consumer = new Consumer({
    lanes: [{ name: "paid", queue: counted, concurrency, pollers: 1 }],
    handle: async (m) => {
      handled.push(m.body);
      await queue.delete(m.receipt);
    },
    metrics: new WorkerMetrics(),
    logger: silentLogger,
    waitSeconds: 0,
    receiveLingerMs: 60_000,
    visibilitySeconds: 30,
    heartbeatSeconds: 5,
    maxJobMs: 60_000,
  });
  consumers.push(consumer);
  consumer.start();
  return { consumer, handled };
}

describe("Consumer receive linger (issue 17: fewer receives per job under load)", () => {
  it("after a receive that brought messages a poller waits before the next; one that came back empty does not", async () => {
    const queue = new MemoryJobQueue();
    const receives: number[] = [];
    const counted: JobQueue = Object.assign(Object.create(queue) as JobQueue, {
      receive: async (options: Parameters<JobQueue["receive"]>[0]) => {
        // Three empty receives first (as a long poll's timeout would end), then the queue's own long poll.
        if (receives.length < 3) await new Promise((resolve) => setImmediate(resolve));
        const got = receives.length < 3 ? [] : await queue.receive({ ...options, waitSeconds: 1 });
        receives.push(got.length);
        return got;
      },
    });
    // The linger is far longer than this test: the poller is still lingering when the next message comes.
    const { consumer, handled } = startLingering(queue, counted, 8);
    // Empty receives follow each other without a pause...
    await waitFor("empty receives", () => receives.length >= 3);
    await queue.send("first");
    await waitFor("the first message", () => handled.length === 1);
    await queue.send("second");
    // ...but after the one that brought "first", several turns of the event loop pass without another.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(receives.at(-1)).toBe(1);
    expect(receives.filter((n) => n > 0)).toEqual([1]);
    expect(handled).toEqual(["first"]);
    // A stop ends the linger at once (the afterEach stop would otherwise wait the minute out and time out).
    expect(await consumer.stop(1000)).toBe(true);
  });

  it("after a full receive a poller takes the next at once: a backlog never waits on the linger", async () => {
    const queue = new MemoryJobQueue();
    const receives: { asked: number; got: number }[] = [];
    const counted: JobQueue = Object.assign(Object.create(queue) as JobQueue, {
      receive: async (options: Parameters<JobQueue["receive"]>[0]) => {
        const got = await queue.receive({ ...options, waitSeconds: 0 });
        receives.push({ asked: options.max ?? 1, got: got.length });
        return got;
      },
    });
    for (let i = 0; i < 25; i++) await queue.send(`m${i}`);
    // The linger is far longer than this test: only full receives can be followed within it.
    const { handled, consumer } = startLingering(queue, counted, 64);
    await waitFor("the whole backlog", () => handled.length === 25);
    // Full receives back to back, then the partial one that ends the backlog (and lingers).
    expect(receives.every((r, i) => i === receives.length - 1 || r.got === r.asked)).toBe(true);
    expect(receives.at(-1)?.got).toBeLessThan(receives.at(-1)?.asked ?? 0);
    expect(await consumer.stop(1000)).toBe(true);
  });
});

describe("Consumer on a backlog (issue 17: a burst's first batch starts early)", () => {
  it("lets one receive's handlers get past their first await before it parses the next receive's messages", async () => {
    const paid = new MemoryJobQueue();
    await paid.sendMany(Array.from({ length: 40 }, (_, i) => `job-${i}`));
    // What each handler did, in order: its synchronous start (the worker parses and checks its message there) and
    // what it does after its first await (the worker hands the job to its expert's batcher there).
    const events: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const consumer = start(paid, new MemoryJobQueue(), {
      paidSlots: 40,
      validationSlots: 1,
      handle: async (message, queue) => {
        events.push(`parsed ${message.body}`);
        // The worker's first await is a read gathered over one turn of the event loop (turn-batch.ts).
        await new Promise<void>((resolve) => setImmediate(resolve));
        events.push(`batched ${message.body}`);
        await held; // every slot stays taken, as while a batch runs
        await queue.delete(message.receipt);
      },
    });
    await waitFor("every job batched", () => events.filter((e) => e.startsWith("batched")).length === 40);
    const firstBatched = events.indexOf("batched job-0");
    // The in-memory queue answers at once: without a turn between receives, all 40 were parsed before any was batched.
    expect(firstBatched).toBeGreaterThan(0);
    expect(events.slice(0, firstBatched).filter((e) => e.startsWith("parsed")).length).toBeLessThanOrEqual(10);
    release();
    expect(await consumer.stop(1000)).toBe(true);
  });

  it("starts a job's zero-delay batch before it sends the next receive (a lone query waits for no request build)", async () => {
    const events: string[] = [];
    // Records when each receive is asked for: the SDK builds and signs its request right then (~0.5 ms of CPU).
    class WatchedQueue extends MemoryJobQueue {
      override receive(options: Parameters<JobQueue["receive"]>[0]) {
        events.push("receive");
        return super.receive(options);
      }
    }
    const paid = new WatchedQueue();
    await paid.send("job-0");
    const consumer = start(paid, new MemoryJobQueue(), {
      paidSlots: 4,
      validationSlots: 1,
      handle: async (message, queue) => {
        events.push("parsed");
        // The worker's checks end in an await that settles within the turn (a memoised verification)...
        await Promise.resolve();
        // ...and its expert's batcher then starts a zero-delay batch at the end of the turn (core/batching).
        await new Promise<void>((resolve) =>
          setImmediate(() => {
            events.push("batch started");
            resolve();
          }),
        );
        await queue.delete(message.receipt);
      },
    });
    await waitFor("the batch started and the next receive was asked", () => events.length >= 4);
    expect(events.slice(0, 4)).toEqual(["receive", "parsed", "batch started", "receive"]);
    expect(await consumer.stop(1000)).toBe(true);
  });
});
