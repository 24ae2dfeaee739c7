import { describe, it } from "vitest";
import type { JobQueue, ReceiveOptions } from "../../core/ports/queue.ts";
import type { QueueMessage } from "./message.ts";

/** A JobQueue whose messages carry attributes (both adapters), for the DLQ checks. */
export type ContractQueue = Omit<JobQueue, "receive"> & {
  receive(options: ReceiveOptions): Promise<QueueMessage[]>;
};

export interface QueuePair {
  /** Default visibility VISIBILITY_SECONDS, redrives to `dlq` after MAX_RECEIVE_COUNT deliveries. */
  readonly queue: ContractQueue;
  readonly dlq: ContractQueue;
}

export const VISIBILITY_SECONDS = 1;
export const MAX_RECEIVE_COUNT = 2;

/** Receives until `count` messages came or a poll comes back empty. */
async function drain(queue: ContractQueue, count: number): Promise<QueueMessage[]> {
  const got: QueueMessage[] = [];
  while (got.length < count) {
    const batch = await queue.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 30 });
    if (batch.length === 0) break;
    got.push(...batch);
  }
  return got;
}

/**
 * The queue semantics the workers and the gateway rely on, run against every JobQueue adapter
 * (MemoryJobQueue in a unit test, SqsJobQueue on fauxqs in an integration test). `open` gives a fresh pair.
 */
export function describeJobQueueContract(name: string, open: () => Promise<QueuePair>): void {
  // Concurrent: every test opens its own queues, and most of the time is spent waiting for visibility timeouts.
  describe.concurrent(`JobQueue contract: ${name}`, () => {
    it("delivers a sent message once with its count and send time, and delete removes it", async ({ expect }) => {
      const { queue } = await open();
      const before = Date.now();
      await queue.send("job-1");
      const after = Date.now();
      const [message, ...rest] = await queue.receive({ max: 10, waitSeconds: 1 });
      expect(rest).toEqual([]);
      expect(message).toMatchObject({ body: "job-1", receiveCount: 1 });
      expect(message?.sentAt).toBeGreaterThanOrEqual(before - 1_000);
      expect(message?.sentAt).toBeLessThanOrEqual(after + 1_000);
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1 });
      if (message) await queue.delete(message.receipt);
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
      expect(await queue.receive({ max: 10, waitSeconds: 0 })).toEqual([]);
    });

    it("sendMany sends every body (more than one batch) and receive returns at most `max`", async ({ expect }) => {
      const { queue } = await open();
      const bodies = Array.from({ length: 25 }, (_, index) => `job-${index}`);
      await queue.sendMany(bodies);
      expect(await queue.depth()).toEqual({ visible: 25, inFlight: 0 });
      const first = await queue.receive({ max: 3, waitSeconds: 1, visibilitySeconds: 30 });
      expect(first.length).toBeLessThanOrEqual(3);
      const rest = await drain(queue, 25 - first.length);
      expect([...first, ...rest].map((message) => message.body).sort()).toEqual([...bodies].sort());
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 25 });
    });

    it("an undeleted message returns after its visibility timeout, with a new receipt and count 2", async ({
      expect,
    }) => {
      const { queue } = await open();
      await queue.send("comes-back");
      const [first] = await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 1 });
      expect(await queue.receive({ max: 1, waitSeconds: 0 })).toEqual([]);
      const [second] = await queue.receive({ max: 1, waitSeconds: 5, visibilitySeconds: 30 });
      expect(second).toMatchObject({ body: "comes-back", messageId: first?.messageId, receiveCount: 2 });
      expect(second?.receipt).not.toBe(first?.receipt);
    });

    it("extendVisibility keeps a message hidden past its first timeout", async ({ expect }) => {
      const { queue } = await open();
      await queue.send("long-job");
      const [message] = await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 1 });
      expect(message).toBeDefined();
      if (!message) return;
      await queue.extendVisibility(message.receipt, 5);
      expect(await queue.receive({ max: 1, waitSeconds: 2 })).toEqual([]);
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1 });
      await queue.delete(message.receipt);
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    });

    it(`redrives to the DLQ after ${MAX_RECEIVE_COUNT} deliveries`, async ({ expect }) => {
      const { queue, dlq } = await open();
      await queue.send("poison");
      for (let delivery = 1; delivery <= MAX_RECEIVE_COUNT; delivery++) {
        const [message] = await queue.receive({ max: 1, waitSeconds: 5, visibilitySeconds: 1 });
        expect(message).toMatchObject({ body: "poison", receiveCount: delivery });
      }
      expect(await queue.receive({ max: 1, waitSeconds: 2, visibilitySeconds: 1 })).toEqual([]);
      const [dead] = await dlq.receive({ max: 1, waitSeconds: 2 });
      expect(dead?.body).toBe("poison");
    });

    it("deadLetter moves a message to the DLQ at once, with the reason and the receive count", async ({ expect }) => {
      const { queue, dlq } = await open();
      await queue.send("bad-input");
      const [message] = await queue.receive({ max: 1, waitSeconds: 1 });
      expect(message).toBeDefined();
      if (!message) return;
      await queue.deadLetter(message, "input does not match the task schema");
      expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
      const [dead] = await dlq.receive({ max: 1, waitSeconds: 1 });
      expect(dead?.body).toBe("bad-input");
      expect(dead?.attributes).toEqual({
        reason: "input does not match the task schema",
        receiveCount: "1",
        sourceMessageId: message.messageId,
      });
    });

    it("delaySeconds hides a new message for that long", async ({ expect }) => {
      const { queue } = await open();
      await queue.send("later", { delaySeconds: 1 });
      expect(await queue.receive({ max: 1, waitSeconds: 0 })).toEqual([]);
      const [message] = await queue.receive({ max: 1, waitSeconds: 5 });
      expect(message?.body).toBe("later");
    });

    it("a long poll returns a message sent while it waits", async ({ expect }) => {
      const { queue } = await open();
      const polling = queue.receive({ max: 10, waitSeconds: 10 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await queue.send("while-waiting");
      expect((await polling).map((message) => message.body)).toEqual(["while-waiting"]);
    });

    it("an aborted long poll resolves with no messages", async ({ expect }) => {
      const { queue } = await open();
      const controller = new AbortController();
      const polling = queue.receive({ max: 1, waitSeconds: 20, signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      expect(await polling).toEqual([]);
    });
  });
}
