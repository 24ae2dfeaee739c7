import { describe, expect, it } from "vitest";
import { MemoryRequestStore } from "../../adapters/tables/memory-requests.ts";
import { PLATFORM_PAYEE } from "../../core/billing/schema.ts";
import type { RequestStore } from "../../core/ports/requests.ts";
import type { DirectoryExpert, ExpertDirectory } from "./deps.ts";
import { settleRequest } from "./flow/settle.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { answerQueuedJobs, fakeExperts } from "./testing/fake-experts.ts";
import { digitInput, harness } from "./testing/harness.ts";
import { TEST_ADMIN_TOKEN } from "./testing/memory-deps.ts";

/** A directory whose weights the test moves (the router and the settle read it). */
function movableDirectory(experts: readonly DirectoryExpert[]) {
  let view = experts.map((e) => ({ ...e }));
  const directory: ExpertDirectory = {
    experts: async (task) => view.filter((e) => task === undefined || e.task === task),
    metagraph: async () => ({ netuid: 1, block: 1, experts: view }),
  };
  return {
    directory,
    setWeights: (weights: readonly number[]) => {
      view = view.map((e) => ({ ...e, weight: weights[e.uid] ?? 0 }));
    },
  };
}

type Earnings = {
  uid: number;
  hotkey: string;
  balance: number;
  daily: { day: string; amount: number; answers: number }[];
  recent: { requestId: string; amount: number }[];
};
type AppLike = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** The public view, or with `admin` the operator's per-request entries. */
async function earningsOf(app: AppLike, uid: number | string, admin = false) {
  const res = await app.request(
    admin ? `/v1/experts/${uid}/earnings/entries` : `/v1/experts/${uid}/earnings`,
    admin ? { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } } : {},
  );
  return { status: res.status, body: (await res.json()) as Earnings & { code?: string } };
}

describe("revenue share of query fees", () => {
  it("splits each captured fee: platform cut, the rest by the answering experts' weights, exact to the micro-credit", async () => {
    const experts = fakeExperts(3);
    const moving = movableDirectory(experts);
    // Weights that do not divide the pool evenly, so the largest-remainder rounding is exercised.
    moving.setWeights([0.7, 0.2, 0.1]);
    const h = await harness({ config: { platformCutBps: 1234 }, deps: { directory: moving.directory } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stop = h.startWorkers();
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 10 });
    await stop();
    if (!res.ok || res.data.status !== "succeeded") throw new Error(JSON.stringify(res));
    const cost = res.data.cost;
    expect(cost).toBe(3 * DIGITS_PRICE);
    const earned = await Promise.all([0, 1, 2].map((uid) => earningsOf(h.app, uid)));
    const shares = earned.map((e) => e.body.balance);
    const platform = await h.ledger.payeeBalance(PLATFORM_PAYEE);
    const pool = Math.floor((cost * (10_000 - 1234)) / 10_000);
    expect(shares.reduce((s, x) => s + x, 0)).toBe(pool);
    expect(platform).toBe(cost - pool);
    // Proportional to 0.7 : 0.2 : 0.1, each within one micro-credit of the exact share.
    [0.7, 0.2, 0.1].forEach((w, i) => {
      expect(Math.abs((shares[i] ?? 0) - pool * w)).toBeLessThanOrEqual(1);
    });
    for (const [uid, e] of earned.entries()) {
      expect(e.status).toBe(200);
      expect(e.body.hotkey).toBe(experts[uid]?.hotkey);
      expect(e.body.daily.map((d) => [d.amount, d.answers])).toEqual([[shares[uid], 1]]);
      const entries = await earningsOf(h.app, uid, true);
      expect(entries.body.recent.map((r) => [r.requestId, r.amount])).toEqual([[res.data.id, shares[uid]]]);
    }
  });

  it("a replayed settle (crash before the result was stored) credits nothing twice, even after the weights moved", async () => {
    const experts = fakeExperts(2);
    const moving = movableDirectory(experts);
    const inner = new MemoryRequestStore();
    let crashes = 1;
    // The first settle captures and credits, then dies before storing its result.
    const requests: RequestStore = {
      create: (r) => inner.create(r),
      get: (id) => inner.get(id),
      getMany: (ids) => inner.getMany(ids),
      setPhase: (id, from, to) => inner.setPhase(id, from, to),
      discard: (id) => inner.discard(id),
      listByAccount: (account, page) => inner.listByAccount(account, page),
      settle: async (id, result) => {
        if (crashes-- > 0) throw new Error("crash after capture");
        return inner.settle(id, result);
      },
    };
    const h = await harness({ experts: 2, deps: { directory: moving.directory, requests } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    await expect(settleRequest(h.deps, res.data.id)).rejects.toThrow("crash after capture");
    const first = await Promise.all([0, 1].map(async (uid) => (await earningsOf(h.app, uid)).body.balance));
    const platform = await h.ledger.payeeBalance(PLATFORM_PAYEE);
    expect(first.reduce((s, x) => s + x, 0) + platform).toBe(2 * DIGITS_PRICE);
    expect(first.every((x) => x > 0)).toBe(true);
    moving.setWeights([0, 1]);
    const again = await settleRequest(h.deps, res.data.id);
    const third = await key.client.job(res.data.id);
    expect(again?.status).toBe("succeeded");
    expect(third.ok && third.data.cost).toBe(2 * DIGITS_PRICE);
    const after = await Promise.all([0, 1].map(async (uid) => (await earningsOf(h.app, uid, true)).body));
    expect(after.map((e) => e.balance)).toEqual(first);
    expect(after.map((e) => e.recent.length)).toEqual([1, 1]);
    expect(await h.ledger.payeeBalance(PLATFORM_PAYEE)).toBe(platform);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.spent]).toEqual([8 * DIGITS_PRICE, 2 * DIGITS_PRICE]);
  });

  it("splits equally among the experts that answered when every weight is 0", async () => {
    const moving = movableDirectory(fakeExperts(3));
    moving.setWeights([0, 0, 0]);
    const h = await harness({ config: { platformCutBps: 0 }, deps: { directory: moving.directory } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    // uid 2 fails: only the two that answered share the fee.
    const stop = h.startWorkers((uid) => (uid === 2 ? "fail" : "none"));
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 10 });
    await stop();
    expect(res.ok && "cost" in res.data && res.data.cost).toBe(2 * DIGITS_PRICE);
    const balances = await Promise.all([0, 1, 2].map(async (uid) => (await earningsOf(h.app, uid)).body.balance));
    expect(balances).toEqual([DIGITS_PRICE, DIGITS_PRICE, 0]);
    expect(await h.ledger.payeeBalance(PLATFORM_PAYEE)).toBe(0);
  });

  it("the public view is totals only: no request id, entry id or time of another account's query (13.7)", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stop = h.startWorkers();
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 10 });
    await stop();
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    const publicView = await h.app.request("/v1/experts/0/earnings");
    const text = await publicView.text();
    expect(publicView.status).toBe(200);
    expect(text).not.toContain(res.data.id);
    expect(text).not.toContain("share:");
    expect(text).not.toContain(key.accountId);
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(["balance", "daily", "hotkey", "uid"]);
    // Per-request entries are the operator's: 401 without the admin token, even with a client key.
    const anonymous = await h.app.request("/v1/experts/0/earnings/entries");
    const client = await h.app.request("/v1/experts/0/earnings/entries", {
      headers: { authorization: `Bearer ${key.key}` },
    });
    expect([anonymous.status, client.status]).toEqual([401, 401]);
    expect((await earningsOf(h.app, 0, true)).body.recent.map((r) => r.requestId)).toEqual([res.data.id]);
  });

  it("earnings are public, 404 for an unknown uid, 400 for a malformed one, and in the OpenAPI document", async () => {
    const h = await harness();
    const none = await earningsOf(h.app, 0);
    expect([none.status, none.body.balance, none.body.daily]).toEqual([200, 0, []]);
    const unknown = await earningsOf(h.app, 99);
    expect([unknown.status, unknown.body.code]).toEqual([404, "not_found"]);
    expect((await earningsOf(h.app, "abc")).status).toBe(400);
    expect((await earningsOf(h.app, 70_000)).status).toBe(400);
    const doc = (await (await h.app.request("/openapi.json")).json()) as { paths: Record<string, { get?: unknown }> };
    expect(doc.paths["/v1/experts/{uid}/earnings"]?.get).toBeDefined();
    expect(doc.paths["/v1/experts/{uid}/earnings/entries"]?.get).toBeDefined();
  });
});
