import { describe, expect, it } from "vitest";
import { MemoryJobQueue } from "../../adapters/queue/memory.ts";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { ShadowDeps } from "../api/flow/shadow.ts";
import { DIGITS_PRICE } from "../api/testing/digits-catalog.ts";
import { answerQueuedJobs } from "../api/testing/fake-experts.ts";
import { digitInput, harness } from "../api/testing/harness.ts";
import { startSettlerLoop } from "./loop.ts";

describe("settler loop", () => {
  it("stops at once while backing off from a failing queue (the back-off sleep is not waited out)", async () => {
    let receives = 0;
    const queue = {
      receive: async () => {
        receives++;
        throw new Error("queue down");
      },
    } as unknown as JobQueue;
    const quiet = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };
    const loop = startSettlerLoop({ logger: quiet } as unknown as ShadowDeps, queue, { waitSeconds: 0 });
    // Failures back off 200, 400, 800, 1600 ms: after ~1.5 s the loop is in a 1.6 s sleep.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receives).toBeGreaterThanOrEqual(3);
    const started = Date.now();
    await loop.stop();
    expect(Date.now() - started).toBeLessThan(300);
  });

  it("settles a request once for the k notices of its jobs, deletes them all, and announces it", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    let captures = 0;
    const ledger = h.deps.ledger;
    const deps = {
      ...h.deps,
      ledger: Object.assign(Object.create(ledger), {
        capture: (...args: Parameters<typeof ledger.capture>) => {
          captures++;
          return ledger.capture(...args);
        },
      }),
    };
    const settleQueue = new MemoryJobQueue();
    const notice = JSON.stringify({ v: 1, requestId: res.data.id });
    await settleQueue.sendMany([notice, notice]);
    let announce: (id: string) => void = () => {};
    const announced = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const loop = startSettlerLoop(deps, settleQueue, { waitSeconds: 0, onSettled: (id) => announce(id) });
    expect(await announced).toBe(res.data.id);
    // The stop waits for the receive being handled: both notices are deleted by then.
    await loop.stop();
    expect(captures).toBe(1);
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: res.data.id }))?.status).toBe("captured");
    expect(await settleQueue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it("after a receive that brought notices waits lingerMs before the next (issue 17), and a stop ends the wait", async () => {
    const queue = new MemoryJobQueue();
    const receives: number[] = [];
    const counted: JobQueue = Object.assign(Object.create(queue) as JobQueue, {
      receive: async (options: Parameters<JobQueue["receive"]>[0]) => {
        const got = await queue.receive(options);
        receives.push(got.length);
        return got;
      },
    });
    await queue.send("not a notice");
    const quiet = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };
    const loop = startSettlerLoop({ logger: quiet } as unknown as ShadowDeps, counted, {
      waitSeconds: 0,
      lingerMs: 60_000,
    });
    while (receives.length === 0) await new Promise((r) => setTimeout(r, 5));
    await queue.send("another");
    await new Promise((r) => setTimeout(r, 50));
    expect(receives).toEqual([1]);
    await loop.stop();
    expect(await queue.depth()).toEqual({ visible: 1, inFlight: 0 });
  });

  it("deletes a receive's notices together once all are handled (one DeleteMessageBatch per receive)", async () => {
    const queue = new MemoryJobQueue();
    const deleted: string[] = [];
    const counted: JobQueue = Object.assign(Object.create(queue) as JobQueue, {
      delete: async (receipt: string) => {
        deleted.push(receipt);
        return queue.delete(receipt);
      },
    });
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const looked: string[] = [];
    const quiet = { warn: () => {}, error: () => {}, info: () => {}, debug: () => {} };
    // Requests that are not there: a notice of one is done with ("unknown"); "req_slow" is looked up slowly.
    const deps = {
      logger: quiet,
      requests: {
        get: async (id: string) => {
          looked.push(id);
          if (id === "req_slow") await slow;
          return null;
        },
      },
    } as unknown as ShadowDeps;
    await queue.sendMany(["req_fast", "req_slow"].map((requestId) => JSON.stringify({ v: 1, requestId })));
    // A long poll (not 0): an empty receive then waits on a timer instead of spinning on the microtask queue.
    const loop = startSettlerLoop(deps, counted, { waitSeconds: 1, lingerMs: 0 });
    while (looked.length < 2) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    // The fast notice is handled, but not deleted alone.
    expect(deleted).toEqual([]);
    release();
    await loop.stop();
    expect(deleted).toHaveLength(2);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });
});
