import { describe, expect, it } from "vitest";
import { handleSettleNotice } from "../settler/settler.ts";
import { inProcessSettleNotifier } from "./flow/settle-notifier.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness } from "./testing/harness.ts";

/**
 * `Prefer: wait` with a settler in the process (deps.settled): the wait ends on the settler's announcement and
 * does not settle beside it; when no announcement comes (a lost notice) the wait's last look still settles.
 */
describe("waiting on the settler", () => {
  it("returns the settler's result, charged once, without settling beside it", async () => {
    const settled = inProcessSettleNotifier();
    const h = await harness({ deps: { settled } });
    let captures = 0;
    let capturesBesideSettler = 0;
    let settling = false;
    const capture = h.deps.ledger.capture.bind(h.deps.ledger);
    h.deps.ledger.capture = (...args) => {
      captures++;
      if (!settling) capturesBesideSettler++;
      return capture(...args);
    };
    // A stand-in for the settler: the fake workers send no notices, so it settles each request it saw enqueued. It
    // is slow on purpose (100 ms a round, five of the waiter's 20 ms polls): a waiter that settled at its polls
    // would capture first.
    const seen = new Set<string>();
    const sendMany = h.queue.sendMany.bind(h.queue);
    h.queue.sendMany = (bodies) => {
      for (const body of bodies) seen.add((JSON.parse(body) as { requestId: string }).requestId);
      return sendMany(bodies);
    };
    let running = true;
    const settler = (async () => {
      while (running) {
        await new Promise((r) => setTimeout(r, 100));
        for (const id of seen) {
          settling = true;
          const notice = JSON.stringify({ v: 1, requestId: id });
          const outcome = await handleSettleNotice(h.deps, notice, settled.announce).finally(() => {
            settling = false;
          });
          if (outcome === "settled") seen.delete(id);
        }
      }
    })();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stopWorkers = h.startWorkers();
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 20 });
    running = false;
    await Promise.all([stopWorkers(), settler]);
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    expect(res.status).toBe(200);
    expect((res.data as { cost: number }).cost).toBe(2 * DIGITS_PRICE);
    expect([captures, capturesBesideSettler]).toEqual([1, 0]);
  });

  it("settles at the end of the wait when no announcement comes", async () => {
    const h = await harness({ deps: { settled: inProcessSettleNotifier() }, config: { pollMaxMs: 20 } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stopWorkers = h.startWorkers();
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 1 });
    await stopWorkers();
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    expect(res.status).toBe(200);
    expect(
      (await h.ledger.getHold({ accountId: key.accountId, holdId: (res.data as { id: string }).id }))?.status,
    ).toBe("captured");
  });
});
