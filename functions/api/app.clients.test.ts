import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../core/ports/requests.ts";
import { keepAnsweredHolds } from "../settler/settler.ts";
import { webhookMessageId } from "./flow/after-settle.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness } from "./testing/harness.ts";
import { silentLogger } from "./testing/memory-deps.ts";
import { sendDueWebhooks } from "./webhooks/sender.ts";

/** A loopback HTTP receiver that records each delivery and answers with the status `answer` gives. */
async function receiver(answer: (n: number) => number) {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(answer(got.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { got, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const headerValues = (h: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : (v ?? "")]));

describe("webhooks", () => {
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it("delivers the final state signed the Standard Webhooks way; a receiver that failed once gets it again", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    expect(key.webhookSecret).toMatch(/^whsec_/);
    const hook = await receiver((n) => (n === 1 ? 500 : 204));
    closers.push(hook.close);
    const res = await h.app.request("/v1/tasks/digits/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ input: digitInput(), k: 2, webhook: { url: hook.url } }),
    });
    const job = (await res.json()) as { id: string };
    const stop = h.startWorkers();
    const view = await waitSettled(h, key.key, job.id);
    await stop();
    expect(view.status).toBe("succeeded");
    // Settling only recorded the message: nothing was sent in the request path.
    expect(hook.got).toHaveLength(0);

    let clock = Date.now();
    const sender = { outbox: h.webhooks, keys: h.deps.keys, logger: silentLogger, policy: { allowLocal: true } };
    const first = await sendDueWebhooks({ ...sender, clock: { now: () => clock, sleep: async () => {} } });
    expect(first).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    // Not due again before its backoff.
    expect(await sendDueWebhooks({ ...sender, clock: { now: () => clock + 1000, sleep: async () => {} } })).toEqual({
      delivered: 0,
      retrying: 0,
      failed: 0,
    });
    clock += 6000;
    const second = await sendDueWebhooks({ ...sender, clock: { now: () => clock, sleep: async () => {} } });
    expect(second).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(hook.got).toHaveLength(2);

    const verifier = new Webhook(key.webhookSecret ?? "");
    for (const delivery of hook.got) {
      const payload = verifier.verify(delivery.body, headerValues(delivery.headers)) as {
        type: string;
        data: { id: string; status: string; receipt?: unknown };
      };
      expect(payload.type).toBe("query.succeeded");
      expect(payload.data.id).toBe(job.id);
      expect(payload.data.receipt).toBeDefined();
    }
    // Both attempts are the same message (the receiver dedupes on webhook-id).
    expect(new Set(hook.got.map((d) => d.headers["webhook-id"]))).toEqual(
      new Set([webhookMessageId(job.id, "succeeded")]),
    );
    // A tampered body does not verify.
    const tampered = hook.got[0];
    if (!tampered) throw new Error("no delivery");
    expect(() =>
      verifier.verify(tampered.body.replace("succeeded", "failed"), headerValues(tampered.headers)),
    ).toThrow();
    // Settling again (a replayed poll) records nothing new.
    const recorded = await h.webhooks.get(webhookMessageId(job.id, "succeeded"));
    if (!recorded) throw new Error("no message");
    expect(await h.webhooks.add({ ...recorded, attempts: 0, status: "pending" })).toBe(false);
  });

  it("sends only the events asked for, and refuses URLs the policy forbids", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const onlyFailed = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(onlyFailed.ok).toBe(true);
    const post = (webhook: unknown) =>
      h.app.request("/v1/tasks/digits/infer", {
        method: "POST",
        headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", prefer: "respond-async" },
        body: JSON.stringify({ input: digitInput(), k: 1, webhook }),
      });
    const asked = await post({ url: "http://127.0.0.1:9/x", events: ["failed"] });
    const id = ((await asked.json()) as { id: string }).id;
    const stop = h.startWorkers();
    await waitSettled(h, key.key, id);
    await stop();
    expect(await h.webhooks.due(Date.now() + 1, 10)).toHaveLength(0);

    const strict = await harness({ config: { webhookAllowLocal: false } });
    const strictKey = await strict.fundedKey(10 * DIGITS_PRICE);
    for (const url of [
      "http://example.com/x",
      "https://127.0.0.1/x",
      "https://10.1.2.3/",
      "https://localhost/",
      "https://[::1]/",
    ]) {
      const res = await strict.app.request("/v1/tasks/digits/infer", {
        method: "POST",
        headers: { authorization: `Bearer ${strictKey.key}`, "content-type": "application/json" },
        body: JSON.stringify({ input: digitInput(), webhook: { url } }),
      });
      expect([url, res.status]).toEqual([url, 400]);
    }
  });
});

describe("webhooks of queries nobody polls", () => {
  it("the sweeper hands an expired query with a webhook to the settler instead of releasing it silently", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await h.app.request("/v1/tasks/digits/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ input: digitInput(), k: 1, webhook: { url: "http://127.0.0.1:9/x" } }),
    });
    const { id } = (await res.json()) as { id: string };
    const plain = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    if (!plain.ok) throw new Error("infer");
    const sent: string[] = [];
    const keep = keepAnsweredHolds({
      requests: h.deps.requests,
      jobs: h.jobs,
      settleQueue: { send: async (body: string) => void sent.push(body) },
      logger: silentLogger,
    });
    const hold = async (holdId: string) => {
      const found = await h.ledger.getHold({ accountId: key.accountId, holdId: holdId });
      if (!found) throw new Error("no hold");
      return found;
    };
    expect(await keep(await hold(id))).toBe(false);
    expect(sent).toEqual([JSON.stringify({ v: 1, requestId: id })]);
    // Without a webhook (or spend limit) and without answers, the hold is released as before.
    expect(await keep(await hold(plain.data.id))).toBe(true);
  });
});

describe("event stream", () => {
  it("streams a query's status from queued to succeeded, then ends", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const accepted = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!accepted.ok) throw new Error(JSON.stringify(accepted.problem));
    const res = await h.app.request(accepted.data.urls.events, { headers: { authorization: `Bearer ${key.key}` } });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("ratelimit")).toMatch(/^"key";r=\d+;t=\d+$/);
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) throw new Error("no body");
    let text = "";
    // The first event arrives before any worker runs: the query is queued.
    while (!text.includes("\n\n")) text += (await reader.read()).value ?? "";
    const stop = h.startWorkers();
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += chunk.value;
    }
    await stop();
    const statuses = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => (JSON.parse(l.slice(6)) as { status: string }).status);
    expect(statuses[0]).toBe("queued");
    expect(statuses.at(-1)).toBe("succeeded");
    expect(new Set(statuses).size).toBe(statuses.length);
    expect(text).toContain("event: status");
  });

  it("is not found for another account's query", async () => {
    const h = await harness();
    const a = await h.fundedKey(10 * DIGITS_PRICE);
    const b = await h.fundedKey(10 * DIGITS_PRICE);
    const accepted = await a.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    if (!accepted.ok) throw new Error("infer");
    const res = await h.app.request(accepted.data.urls.events, { headers: { authorization: `Bearer ${b.key}` } });
    expect(res.status).toBe(404);
  });
});

describe("lists", () => {
  it("pages over 250 queries newest first with a cursor, and shows only the key's own account", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const other = await h.fundedKey(10 * DIGITS_PRICE);
    const base = 1_800_000_000_000;
    const seed = (accountId: string, i: number): RequestRecord => ({
      requestId: `req_seed${String(i).padStart(4, "0")}${accountId.slice(-4)}`,
      accountId,
      keyId: "key_x",
      task: "digits",
      bodySha256: "",
      experts: [],
      pricePerAnswer: DIGITS_PRICE,
      holdAmount: 0,
      phase: "dispatched",
      // Groups of five share a creation time: the request id breaks the tie, so no item is skipped or repeated.
      createdAt: base + Math.floor(i / 5) * 1000,
      deadline: base + 10 ** 9,
    });
    for (let i = 0; i < 250; i++) await h.deps.requests.create(seed(key.accountId, i));
    for (let i = 0; i < 7; i++) await h.deps.requests.create(seed(other.accountId, i));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await key.client.listJobs({ limit: 100, ...(cursor ? { cursor } : {}) });
      if (!page.ok) throw new Error(JSON.stringify(page.problem));
      seen.push(...page.data.data.map((j) => j.id));
      cursor = page.data.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    const expected = Array.from({ length: 250 }, (_, i) => seed(key.accountId, i))
      .sort((a, b) => b.createdAt - a.createdAt || (a.requestId < b.requestId ? 1 : -1))
      .map((r) => r.requestId);
    expect(seen).toEqual(expected);
    const bad = await h.app.request("/v1/jobs?cursor=bm90LWEtY3Vyc29y", {
      headers: { authorization: `Bearer ${key.key}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("ratelimit-policy")).toMatch(/^"key";q=\d+;w=\d+$/);
  });

  it("lists keys a page at a time, one account's or all", async () => {
    const h = await harness();
    const keys = [];
    for (let i = 0; i < 5; i++) keys.push(await h.fundedKey(0));
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.admin.listKeys({ limit: 2, ...(cursor ? { cursor } : {}) });
      if (!page.ok) throw new Error(JSON.stringify(page.problem));
      ids.push(...page.data.data.map((k) => k.id));
      cursor = page.data.nextCursor ?? undefined;
    } while (cursor);
    expect(ids.sort()).toEqual(keys.map((k) => k.id).sort());
    const one = await h.admin.listKeys({ accountId: keys[0]?.accountId ?? "" });
    expect(one.ok && one.data.data.map((k) => k.id)).toEqual([keys[0]?.id]);
    expect(JSON.stringify(one)).not.toContain("whsec_");
  });
});

describe("key rotation", () => {
  it("gives a new secret; the old one works for the grace period only; revoking ends both", async () => {
    let now = 1_800_000_000_000;
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const h = await harness({ clock });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const rotated = await h.admin.rotateKey(key.id, 60);
    if (!rotated.ok) throw new Error(JSON.stringify(rotated.problem));
    expect(rotated.data.key).not.toBe(key.key);
    expect(rotated.data.id).toBe(key.id);
    expect(rotated.data.previousExpiresAt).toBe(new Date(now + 60_000).toISOString());
    const usage = (secret: string) => h.clientFor(secret).usage();
    expect((await usage(key.key)).ok).toBe(true);
    expect((await usage(rotated.data.key)).ok).toBe(true);
    now += 61_000;
    expect((await usage(key.key)).status).toBe(401);
    expect((await usage(rotated.data.key)).ok).toBe(true);
    const again = await h.admin.rotateKey(key.id, 3600);
    if (!again.ok) throw new Error("rotate");
    await h.admin.revokeKey(key.id);
    expect((await usage(again.data.key)).status).toBe(401);
    expect((await usage(rotated.data.key)).status).toBe(401);
  });
});

describe("spend limits", () => {
  it("refuses the query that would cross the key's daily limit, under 50 parallel requests", async () => {
    const h = await harness();
    const created = await h.admin.createKey({
      name: "limited",
      credits: 1000 * DIGITS_PRICE,
      rateLimit: { perMinute: 100_000, burst: 10_000 },
      spendLimit: { perDay: 17 * DIGITS_PRICE, total: 100 * DIGITS_PRICE },
    });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const client = h.clientFor(created.data.key);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 })),
    );
    expect(results.filter((r) => r.ok && r.status === 202)).toHaveLength(17);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(33);
    expect(refused.every((r) => !r.ok && r.status === 402 && r.problem.code === "spend_limit")).toBe(true);
    const usage = await client.usage();
    if (!usage.ok) throw new Error("usage");
    expect(usage.data.held).toBe(17 * DIGITS_PRICE);
    expect(usage.data.keySpend).toEqual({
      today: 17 * DIGITS_PRICE,
      total: 17 * DIGITS_PRICE,
      limit: { perDay: 17 * DIGITS_PRICE, total: 100 * DIGITS_PRICE },
    });
  });

  it("gives the unspent part of a hold back to the limit when the query settles", async () => {
    const h = await harness();
    const created = await h.admin.createKey({
      name: "limited",
      credits: 100 * DIGITS_PRICE,
      spendLimit: { perDay: 2 * DIGITS_PRICE },
    });
    if (!created.ok) throw new Error("createKey");
    const client = h.clientFor(created.data.key);
    const stop = h.startWorkers(() => "fail");
    const failed = await client.infer("digits", digitInput(), { k: 2, waitSeconds: 10 });
    await stop();
    expect(failed.ok && failed.data.status).toBe("failed");
    // Nothing was spent, so the whole limit is there again.
    const usage = await client.usage();
    expect(usage.ok && usage.data.keySpend?.today).toBe(0);
    const next = await client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    expect(next.ok && next.status).toBe(202);
  });
});

describe("response conventions", () => {
  it("serves problem types, says which preference it applied, and marks a low balance", async () => {
    const h = await harness();
    const key = await h.fundedKey(DIGITS_PRICE);
    const refused = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 0 });
    if (refused.ok) throw new Error("expected 402");
    expect(refused.problem.type).toBe("/problems/insufficient-credits");
    const page = await h.app.request(refused.problem.type, { headers: { accept: "application/json" } });
    expect(await page.json()).toEqual({
      type: "/problems/insufficient-credits",
      code: "insufficient_credits",
      status: 402,
      title: "Not enough credits",
    });
    const html = await h.app.request(refused.problem.type);
    expect(html.headers.get("content-type")).toContain("text/html");
    expect((await h.app.request("/problems/no-such-thing")).status).toBe(404);

    const asyncRes = await h.app.request("/v1/tasks/digits/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify({ input: digitInput(), k: 1 }),
    });
    expect([asyncRes.status, asyncRes.headers.get("preference-applied")]).toEqual([202, "respond-async"]);
    expect(asyncRes.headers.get("ratelimit")).not.toBeNull();
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.available, usage.data.lowBalance]).toEqual([0, true]);
    expect(usage.ok && usage.data.openHolds[0]?.deadline).toMatch(/Z$/);
  });
});

async function waitSettled(h: Awaited<ReturnType<typeof harness>>, secret: string, id: string) {
  for (let i = 0; i < 200; i++) {
    const res = await h.clientFor(secret).job(id);
    if (res.ok && !["queued", "running"].includes(res.data.status)) return res.data;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("never settled");
}
