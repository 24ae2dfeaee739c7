import { describe, expect, it } from "vitest";
import { describeJobQueueContract, MAX_RECEIVE_COUNT, VISIBILITY_SECONDS } from "./contract.ts";
import { MemoryJobQueue, MessageNotInflightError } from "./memory.ts";
import { MinHeap } from "./min-heap.ts";

function openPair() {
  const dlq = new MemoryJobQueue({ visibilityTimeoutSeconds: VISIBILITY_SECONDS });
  const queue = new MemoryJobQueue({
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    deadLetter: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
  });
  return Promise.resolve({ queue, dlq });
}

describeJobQueueContract("MemoryJobQueue", openPair);

describe("MemoryJobQueue specifics", () => {
  it("refuses to extend the visibility of a deleted message", async () => {
    const { queue } = await openPair();
    await queue.send("x");
    const [message] = await queue.receive({ max: 1, waitSeconds: 0 });
    if (!message) throw new Error("no message");
    await queue.delete(message.receipt);
    await expect(queue.extendVisibility(message.receipt, 10)).rejects.toBeInstanceOf(MessageNotInflightError);
  });

  it("deadLetter without a DLQ throws and keeps the message", async () => {
    const queue = new MemoryJobQueue();
    await queue.send("x");
    const [message] = await queue.receive({ max: 1, waitSeconds: 0 });
    if (!message) throw new Error("no message");
    await expect(queue.deadLetter(message, "r")).rejects.toThrow(/no dead-letter/);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1 });
  });

  it("a zero visibility delivery does not repeat inside the same receive", async () => {
    const queue = new MemoryJobQueue();
    await queue.send("once");
    const got = await queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 0 });
    expect(got.map((message) => message.receiveCount)).toEqual([1]);
    expect(await queue.depth()).toEqual({ visible: 1, inFlight: 0 });
  });
});

describe("MinHeap", () => {
  it("pops in ascending order", () => {
    const heap = new MinHeap<number>((a, b) => a - b);
    const values = Array.from({ length: 200 }, (_, index) => (index * 7919) % 211);
    for (const value of values) heap.push(value);
    const popped: number[] = [];
    for (let value = heap.pop(); value !== undefined; value = heap.pop()) popped.push(value);
    expect(popped).toEqual([...values].sort((a, b) => a - b));
  });
});
