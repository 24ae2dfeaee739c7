import { describe, expect, it } from "vitest";
import { ManualClock, settledByNextTurn } from "./clock.ts";
import { type BatchReport, DynamicBatcher } from "./dynamic-batcher.ts";
import { BatcherClosedError, ItemExpiredError, QueueFullError } from "./errors.ts";

/** A runner whose calls stay open until the test settles them, so batches can be observed mid-flight. */
function controlledRunner() {
  const calls: { inputs: number[]; resolve: (out: number[]) => void; reject: (e: unknown) => void }[] = [];
  const runner = (inputs: readonly number[]) =>
    new Promise<readonly number[]>((resolve, reject) => {
      calls.push({ inputs: [...inputs], resolve, reject });
    });
  return { calls, runner };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
const double = (inputs: readonly number[]) => Promise.resolve(inputs.map((x) => x * 2));

describe("DynamicBatcher", () => {
  it("starts a batch as soon as a preferred size is queued, without waiting for the delay", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(
      runner,
      { preferredBatchSizes: [4], maxBatchSize: 8, maxQueueDelayMs: 100 },
      clock,
    );
    const results = [1, 2, 3, 4].map((x) => batcher.submit(x));
    expect(calls.map((c) => c.inputs)).toEqual([[1, 2, 3, 4]]);
    calls[0]?.resolve([10, 20, 30, 40]);
    const done = await Promise.all(results);
    expect(done.map((r) => r.output)).toEqual([10, 20, 30, 40]);
    expect(done.every((r) => r.batchSize === 4)).toBe(true);
  });

  it("waits up to the max queue delay, then runs whatever is queued in one call", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(
      runner,
      { preferredBatchSizes: [8], maxBatchSize: 8, maxQueueDelayMs: 5 },
      clock,
    );
    const a = batcher.submit(1);
    clock.advance(3);
    const b = batcher.submit(2);
    clock.advance(1.9);
    expect(calls).toHaveLength(0);
    clock.advance(0.1);
    expect(calls.map((c) => c.inputs)).toEqual([[1, 2]]);
    calls[0]?.resolve([5, 6]);
    expect((await a).queueMs).toBe(5);
    expect((await b).queueMs).toBe(2);
    expect((await b).output).toBe(6);
  });

  it("takes the largest preferred size that fits and leaves the rest queued", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(
      runner,
      { preferredBatchSizes: [2, 4], maxBatchSize: 16, maxQueueDelayMs: 50, maxConcurrentBatches: 1 },
      clock,
    );
    const results: Promise<unknown>[] = [];
    // While the first batch (of 2) runs, 5 more arrive: the next batch is the preferred 4, the fifth waits.
    results.push(batcher.submit(1), batcher.submit(2));
    for (const x of [3, 4, 5, 6, 7]) results.push(batcher.submit(x));
    expect(calls.map((c) => c.inputs)).toEqual([[1, 2]]);
    calls[0]?.resolve([0, 0]);
    await flush();
    expect(calls.map((c) => c.inputs)).toEqual([
      [1, 2],
      [3, 4, 5, 6],
    ]);
    expect(batcher.pending).toBe(1);
    calls[1]?.resolve([0, 0, 0, 0]);
    await flush();
    expect(calls).toHaveLength(2);
    clock.advance(50);
    expect(calls[2]?.inputs).toEqual([7]);
    calls[2]?.resolve([0]);
    await Promise.all(results);
  });

  it("never exceeds the max batch size", async () => {
    const clock = new ManualClock();
    const sizes: number[] = [];
    const batcher = new DynamicBatcher(
      (inputs: readonly number[]) => {
        sizes.push(inputs.length);
        return double(inputs);
      },
      { maxBatchSize: 3, maxQueueDelayMs: 10 },
      clock,
    );
    const results = Array.from({ length: 7 }, (_, i) => batcher.submit(i));
    await flush();
    clock.advance(10);
    const done = await Promise.all(results);
    expect(sizes).toEqual([3, 3, 1]);
    expect(done.map((r) => r.output)).toEqual([0, 2, 4, 6, 8, 10, 12]);
  });

  it("with zero delay waits for no timer: one turn's items start together, then what queued while the model ran", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 0 }, clock);
    const all = [batcher.submit(1), batcher.submit(2)];
    expect(calls).toHaveLength(0);
    clock.advance(0);
    expect(calls.map((c) => c.inputs)).toEqual([[1, 2]]);
    all.push(batcher.submit(3), batcher.submit(4));
    // The model is busy: no timer is armed for them (the batch's end starts them).
    expect(clock.pendingTimers).toBe(0);
    calls[0]?.resolve([1, 2]);
    await flush();
    expect(calls[1]?.inputs).toEqual([3, 4]);
    calls[1]?.resolve([3, 4]);
    await Promise.all(all);
  });

  it("with zero delay starts a full batch at once, without waiting for the turn to end", () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(runner, { maxBatchSize: 2, maxQueueDelayMs: 0, maxConcurrentBatches: 2 }, clock);
    void batcher.submit(1);
    void batcher.submit(2);
    void batcher.submit(3);
    expect(calls.map((c) => c.inputs)).toEqual([[1, 2]]);
    clock.advance(0);
    expect(calls.map((c) => c.inputs)).toEqual([[1, 2], [3]]);
  });

  it("arms no timer while every slot is busy, however long the running batch takes", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 2 }, clock);
    const first = batcher.submit(1);
    clock.advance(2);
    expect(calls).toHaveLength(1);
    const second = batcher.submit(2);
    clock.advance(50);
    expect(clock.pendingTimers).toBe(0);
    calls[0]?.resolve([1]);
    await flush();
    // Its delay ran out while it waited: it starts as soon as the slot is free.
    expect(calls[1]?.inputs).toEqual([2]);
    calls[1]?.resolve([2]);
    await Promise.all([first, second]);
  });

  it("rejects a waiting item at its deadline even while a slow batch holds every slot", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(runner, { maxBatchSize: 8, maxQueueDelayMs: 0 }, clock);
    const running = batcher.submit(1);
    clock.advance(0);
    expect(calls).toHaveLength(1);
    const late = batcher.submit(2, { expiresAt: 100 });
    const patient = batcher.submit(3);
    clock.advance(99);
    expect(await settledByNextTurn(late)).toBe(false);
    clock.advance(1);
    // The model is still busy with the first batch (it may never return): the late item is not kept waiting.
    await expect(late).rejects.toBeInstanceOf(ItemExpiredError);
    expect(clock.pendingTimers).toBe(0);
    calls[0]?.resolve([1]);
    await flush();
    expect(calls[1]?.inputs).toEqual([3]);
    calls[1]?.resolve([3]);
    await Promise.all([running, patient]);
  });

  it("a failed batch fails only its own items", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const reports: BatchReport[] = [];
    const batcher = new DynamicBatcher(
      runner,
      { preferredBatchSizes: [2], maxBatchSize: 2, maxConcurrentBatches: 2 },
      clock,
      (r) => reports.push(r),
    );
    const first = [batcher.submit(1), batcher.submit(2)];
    const second = [batcher.submit(3), batcher.submit(4)];
    expect(calls).toHaveLength(2);
    calls[0]?.reject(new Error("CUDA out of memory"));
    calls[1]?.resolve([30, 40]);
    await expect(first[0]).rejects.toThrow("CUDA out of memory");
    await expect(first[1]).rejects.toThrow("CUDA out of memory");
    expect((await second[1])?.output).toBe(40);
    expect(reports.map((r) => [r.size, r.ok]).sort()).toEqual([
      [2, false],
      [2, true],
    ]);
  });

  it("fails the batch when the runner returns the wrong number of outputs", async () => {
    const batcher = new DynamicBatcher((inputs: readonly number[]) => Promise.resolve(inputs.slice(1)), {
      maxBatchSize: 2,
      preferredBatchSizes: [2],
    });
    const results = [batcher.submit(1), batcher.submit(2)];
    await expect(results[0]).rejects.toThrow("1 outputs for 2 inputs");
    await expect(results[1]).rejects.toThrow("1 outputs for 2 inputs");
  });

  it("rejects a synchronous runner throw as a batch failure", async () => {
    const batcher = new DynamicBatcher(
      (): Promise<readonly number[]> => {
        throw new Error("boom");
      },
      { maxQueueDelayMs: 0 },
    );
    await expect(batcher.submit(1)).rejects.toThrow("boom");
  });

  it("rejects items beyond the max queue size at once", async () => {
    const clock = new ManualClock();
    const { calls, runner } = controlledRunner();
    const batcher = new DynamicBatcher(runner, { maxBatchSize: 4, maxQueueDelayMs: 100, maxQueueSize: 2 }, clock);
    const ok = [batcher.submit(1), batcher.submit(2)];
    await expect(batcher.submit(3)).rejects.toBeInstanceOf(QueueFullError);
    clock.advance(100);
    calls[0]?.resolve([1, 2]);
    await Promise.all(ok);
  });

  it("rejects items whose deadline passes in the queue, and runs the rest", async () => {
    const clock = new ManualClock();
    const seen: number[][] = [];
    const batcher = new DynamicBatcher(
      (inputs: readonly number[]) => {
        seen.push([...inputs]);
        return double(inputs);
      },
      { maxBatchSize: 4, maxQueueDelayMs: 10 },
      clock,
    );
    const late = batcher.submit(1, { expiresAt: 5 });
    const fine = batcher.submit(2, { expiresAt: 50 });
    clock.advance(10);
    await expect(late).rejects.toBeInstanceOf(ItemExpiredError);
    expect((await fine).output).toBe(4);
    expect(seen).toEqual([[2]]);
  });

  it("close() runs queued items at once, waits for them, then refuses new ones", async () => {
    const clock = new ManualClock();
    const batcher = new DynamicBatcher(double, { maxBatchSize: 8, maxQueueDelayMs: 10_000 }, clock);
    const queued = [batcher.submit(1), batcher.submit(2)];
    await batcher.close();
    expect((await Promise.all(queued)).map((r) => r.output)).toEqual([2, 4]);
    await expect(batcher.submit(3)).rejects.toBeInstanceOf(BatcherClosedError);
    expect(clock.pendingTimers).toBe(0);
  });

  it("expedite() starts queued and later items without waiting for the delay, and still accepts new ones", async () => {
    const clock = new ManualClock();
    const sizes: number[] = [];
    const batcher = new DynamicBatcher(
      (inputs: readonly number[]) => {
        sizes.push(inputs.length);
        return double(inputs);
      },
      { maxBatchSize: 8, preferredBatchSizes: [8], maxQueueDelayMs: 60_000 },
      clock,
    );
    const first = [batcher.submit(1), batcher.submit(2)];
    expect(sizes).toEqual([]);
    batcher.expedite();
    expect((await Promise.all(first)).map((r) => r.output)).toEqual([2, 4]);
    expect((await batcher.submit(3)).output).toBe(6);
    expect(sizes).toEqual([2, 1]);
  });
});
