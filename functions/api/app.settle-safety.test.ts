import { describe, expect, it } from "vitest";
import { MemoryLedger } from "../../adapters/tables/memory-ledger.ts";
import { MemoryRequestStore } from "../../adapters/tables/memory-requests.ts";
import { LedgerBusyError } from "../../core/billing/errors.ts";
import type { HoldRef, SettleResult } from "../../core/ports/ledger.ts";
import type { RequestStore } from "../../core/ports/requests.ts";
import { type ExpertDirectory, systemClock } from "./deps.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { answerQueuedJobs, fakeExperts, staticDirectory } from "./testing/fake-experts.ts";
import { digitInput, harness } from "./testing/harness.ts";

const DAY_MS = 86_400_000;

/** A request store whose records can all expire at once, as the REQ# items do by TTL (holds never expire). */
function expiringRequests() {
  let inner = new MemoryRequestStore();
  const store: RequestStore & { expireAll(): void } = {
    create: (r) => inner.create(r),
    get: (id) => inner.get(id),
    getMany: (ids) => inner.getMany(ids),
    setPhase: (id, from, to) => inner.setPhase(id, from, to),
    settle: (id, result) => inner.settle(id, result),
    discard: (id) => inner.discard(id),
    listByAccount: (account, page) => inner.listByAccount(account, page),
    expireAll: () => {
      inner = new MemoryRequestStore();
    },
  };
  return store;
}

/** A directory whose backing chain RPC can be taken down. */
function flakyDirectory() {
  const real = staticDirectory(fakeExperts(3));
  const state = { down: false };
  const directory: ExpertDirectory = {
    experts: async (task) => {
      if (state.down) throw new Error("chain RPC unreachable");
      return real.experts(task);
    },
    metagraph: () => real.metagraph(),
  };
  return { directory, state };
}

/** A ledger on which another settler has decided to capture these holds but not finished (a `capturing` hold). */
class CaptureInFlightLedger extends MemoryLedger {
  readonly capturing = new Set<string>();
  override async release(ref: HoldRef, at: number): Promise<SettleResult> {
    const hold = await this.getHold(ref);
    if (hold && hold.status === "held" && this.capturing.has(ref.holdId)) {
      return { ok: false, reason: "conflict", hold: { ...hold, status: "capturing" } };
    }
    return super.release(ref, at);
  }
}

class BusyLedger extends MemoryLedger {
  busy = false;
  override hold(input: Parameters<MemoryLedger["hold"]>[0]) {
    if (this.busy) return Promise.reject(new LedgerBusyError("applied map full"));
    return super.hold(input);
  }
}

describe("settle safety", () => {
  it("an Idempotency-Key reused after its request record expired is a 409, not a free query", async () => {
    // Real time (the fake experts sign with it), moved on by hand past the record's TTL.
    let offset = 0;
    const clock = { now: () => Date.now() + offset, sleep: systemClock.sleep };
    const requests = expiringRequests();
    const h = await harness({ clock, deps: { requests } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const first = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0, idempotencyKey: "k1" });
    if (!first.ok) throw new Error(JSON.stringify(first.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    const settled = await key.client.job(first.data.id);
    expect(settled.ok && settled.data.status).toBe("succeeded");
    requests.expireAll();
    offset += 8 * DAY_MS;
    const again = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0, idempotencyKey: "k1" });
    expect(!again.ok && [again.status, again.problem.code]).toEqual([409, "conflict"]);
    expect((await h.queue.depth()).visible).toBe(0);
    expect(await requests.get(first.data.id)).toBeNull();
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held, usage.data.spent]).toEqual([
      8 * DIGITS_PRICE,
      0,
      2 * DIGITS_PRICE,
    ]);
  });

  it("charges nothing while the directory is down, and settles (charge and split) once it is back", async () => {
    const { directory, state } = flakyDirectory();
    const h = await harness({ deps: { directory } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    state.down = true;
    const during = await key.client.job(res.data.id);
    expect(during.ok && during.data.status).toBe("running");
    expect((await h.deps.ledger.getHold({ accountId: key.accountId, holdId: res.data.id }))?.status).toBe("held");
    const held = await key.client.usage();
    expect(held.ok && [held.data.held, held.data.spent]).toEqual([2 * DIGITS_PRICE, 0]);
    state.down = false;
    const after = await key.client.job(res.data.id);
    expect(after.ok && [after.data.status, after.data.cost]).toEqual(["succeeded", 2 * DIGITS_PRICE]);
    const paid = await Promise.all(h.experts.slice(0, 2).map((e) => h.deps.ledger.payeeBalance(e.hotkey)));
    expect(paid.every((p) => p > 0)).toBe(true);
  });

  it("a cancel that meets a capture in progress reports the charged answer, not 'canceled'", async () => {
    const ledger = new CaptureInFlightLedger();
    const h = await harness({ deps: { ledger } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    ledger.capturing.add(res.data.id);
    const canceled = await key.client.cancel(res.data.id);
    expect(canceled.ok && [canceled.data.status, canceled.data.cost]).toEqual(["succeeded", 2 * DIGITS_PRICE]);
    const usage = await key.client.usage();
    expect(usage.ok && usage.data.spent).toBe(2 * DIGITS_PRICE);
  });

  it("another account's poll settles nothing and answers exactly like an unknown id", async () => {
    const h = await harness();
    const owner = await h.fundedKey(10 * DIGITS_PRICE);
    const other = await h.fundedKey(0);
    const res = await owner.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    const foreign = await other.client.job(res.data.id);
    const unknown = await other.client.job("req_doesnotexist0000000000");
    expect(!foreign.ok && !unknown.ok && [foreign.status, foreign.problem.code, foreign.problem.detail]).toEqual([
      404,
      "not_found",
      !unknown.ok && unknown.problem.detail,
    ]);
    expect((await h.deps.ledger.getHold({ accountId: owner.accountId, holdId: res.data.id }))?.status).toBe("held");
    expect((await h.deps.requests.get(res.data.id))?.result).toBeUndefined();
    const mine = await owner.client.job(res.data.id);
    expect(mine.ok && mine.data.status).toBe("succeeded");
  });

  it("a ledger with no room for the hold answers 503 ledger_busy with Retry-After; the same key works later", async () => {
    const ledger = new BusyLedger();
    const h = await harness({ deps: { ledger } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    ledger.busy = true;
    const send = () =>
      h.app.request("/v1/tasks/digits/infer", {
        method: "POST",
        headers: {
          authorization: `Bearer ${key.key}`,
          "content-type": "application/json",
          "idempotency-key": "busy-1",
          prefer: "respond-async",
        },
        body: JSON.stringify({ input: digitInput(), k: 2 }),
      });
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(((await refused.json()) as { code: string }).code).toBe("ledger_busy");
    expect((await h.queue.depth()).visible).toBe(0);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held]).toEqual([10 * DIGITS_PRICE, 0]);
    ledger.busy = false;
    expect((await send()).status).toBe(202);
  });
});
