import { describe, expect, it } from "vitest";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { SettleDeps } from "../api/flow/settle.ts";
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
    const loop = startSettlerLoop({ logger: quiet } as unknown as SettleDeps, queue, { waitSeconds: 0 });
    // Failures back off 200, 400, 800, 1600 ms: after ~1.5 s the loop is in a 1.6 s sleep.
    await new Promise((r) => setTimeout(r, 1500));
    expect(receives).toBeGreaterThanOrEqual(3);
    const started = Date.now();
    await loop.stop();
    expect(Date.now() - started).toBeLessThan(300);
  });
});
