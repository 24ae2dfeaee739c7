import { describe, expect, it } from "vitest";
import { sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { decodeJobInput } from "../../core/jobs/job-input.ts";
import { JobMessage } from "../../core/jobs/schema.ts";
import { verifyReceipt } from "../../core/receipts/receipt.ts";
import { SignedQueries } from "../../gpu-workers/signed-queries.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness, manualClock } from "./testing/harness.ts";

describe("paid query, sync path", () => {
  it("answers with the combined output, charges price x answering experts and signs a receipt", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stop = h.startWorkers();
    const res = await key.client.infer("digits", digitInput(1), { k: 3, waitSeconds: 10 });
    await stop();
    expect(res.ok && res.status).toBe(200);
    if (!res.ok || res.data.status !== "succeeded") throw new Error(JSON.stringify(res));
    const data = res.data;
    expect(data.cost).toBe(3 * DIGITS_PRICE);
    expect(data.experts.map((e) => e.uid).sort()).toEqual([0, 1, 2]);
    expect(data.experts.reduce((s, e) => s + e.gate, 0)).toBeCloseTo(1, 9);
    expect((data.output as { probs: number[] }).probs[9]).toBeCloseTo(0.91, 6);
    expect(
      verifyReceipt(sr25519Verifier, data.receipt, {
        expectedSigner: h.deps.gatewaySigner.address,
        output: data.output,
      }),
    ).toEqual({ ok: true });
    const verdict = await h.admin.verifyReceipt(data.receipt, data.output);
    expect(verdict.ok && verdict.data.valid).toBe(true);
    const usage = await key.client.usage();
    if (!usage.ok) throw new Error("usage");
    expect(usage.data.balance).toBe(7 * DIGITS_PRICE);
    expect(usage.data.held).toBe(0);
    expect(usage.data.spent).toBe(3 * DIGITS_PRICE);
    expect(usage.data.openHolds).toEqual([]);
  });

  it("charges only the experts whose signed answer checks out", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stop = h.startWorkers((uid) => (uid === 1 ? "wrong_signer" : uid === 2 ? "tampered" : "none"));
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 10 });
    await stop();
    if (!res.ok || res.data.status !== "succeeded") throw new Error(JSON.stringify(res));
    expect(res.data.experts.map((e) => e.uid)).toEqual([0]);
    expect(res.data.experts[0]?.gate).toBe(1);
    expect(res.data.cost).toBe(DIGITS_PRICE);
    const usage = await key.client.usage();
    expect(usage.ok && usage.data.balance).toBe(9 * DIGITS_PRICE);
  });

  it("refuses a batch-signed answer without its proof or with another answer's proof (issue 17)", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const stop = h.startWorkers((uid) => (uid === 1 ? "no_proof" : uid === 2 ? "foreign_proof" : "none"));
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 10 });
    await stop();
    if (!res.ok || res.data.status !== "succeeded") throw new Error(JSON.stringify(res));
    expect(res.data.experts.map((e) => e.uid)).toEqual([0]);
    expect(res.data.experts[0]?.answerProof).toEqual({ index: 0, count: 1, path: [] });
    expect(res.data.cost).toBe(DIGITS_PRICE);
  });

  it("answers a failed query with the query object (200, status failed) and charges nothing", async () => {
    const h = await harness();
    const key = await h.fundedKey(5 * DIGITS_PRICE);
    const stop = h.startWorkers(() => "fail");
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 10 });
    await stop();
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    expect([res.status, res.data.status, res.data.cost]).toEqual([200, "failed", 0]);
    expect(res.data.id).toMatch(/^req_/);
    expect(res.data.failedUids?.sort()).toEqual([0, 1].sort());
    expect(res.data.urls.get).toBe(`/v1/jobs/${res.data.id}`);
    // The same object as a poll gives, ISO 8601 times included.
    const polled = await key.client.job(res.data.id);
    expect(polled.ok && polled.data).toEqual(res.data);
    expect(res.data.settledAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held, usage.data.spent]).toEqual([5 * DIGITS_PRICE, 0, 0]);
  });
});

describe("paid query, async path", () => {
  it("holds before enqueueing, answers 202, and settles once on polls", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    expect(res.ok && res.status).toBe(202);
    if (!res.ok || !("urls" in res.data)) throw new Error(JSON.stringify(res));
    const id = res.data.id;
    const held = await key.client.usage();
    expect(held.ok && [held.data.balance, held.data.held]).toEqual([8 * DIGITS_PRICE, 2 * DIGITS_PRICE]);
    expect((await h.queue.depth()).visible).toBe(2);
    const pending = await key.client.job(id);
    expect(pending.ok && pending.data.status).toBe("queued");
    await (await import("./testing/fake-experts.ts")).answerQueuedJobs(h.queue, h.jobs, h.experts);
    const done1 = await key.client.job(id);
    const done2 = await key.client.job(id);
    expect(done1.ok && done1.data.status).toBe("succeeded");
    expect(done2.ok && done2.data.receipt).toEqual(done1.ok && done1.data.receipt);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held, usage.data.spent]).toEqual([
      8 * DIGITS_PRICE,
      0,
      2 * DIGITS_PRICE,
    ]);
  });

  it("enqueues one job message per expert with the validated input and the query its gateway signed", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(0.25), { k: 2, waitSeconds: 0, idempotencyKey: "msg-1" });
    if (!res.ok) throw new Error("infer");
    const received = await h.queue.receive({ max: 10, waitSeconds: 0 });
    const messages = received.map((m) => JobMessage.parse(JSON.parse(m.body)));
    expect(messages.map((m) => m.jobId).sort()).toEqual([`${res.data.id}:0`, `${res.data.id}:1`]);
    const record = await h.deps.requests.get(res.data.id);
    // What a worker that trusts the gateway runs them on, without reading the request (issue 17): its record's facts.
    const worker = new SignedQueries(sr25519Verifier, h.deps.gatewaySigner.address, 60_000, () => h.deps.clock.now());
    for (const m of messages) {
      const check = worker.check(m, decodeJobInput(m).digest);
      expect(check).toEqual({
        ok: true,
        facts: {
          requestId: record?.requestId,
          task: "digits",
          inputDigest: record?.inputDigest,
          createdAt: record?.createdAt,
          deadline: record?.deadline,
          experts: record?.experts.map(({ uid, hotkey }) => ({ uid, hotkey })),
        },
      });
      // Per job, only the answer is signed (by the worker): the query's signature is one for all of them.
      expect(m.request).toBeUndefined();
      expect(m.query?.signature).toEqual(messages[0]?.query?.signature);
      // A tensor travels as its float32 bytes (core/jobs/job-input.ts), decoded by the worker to what it feeds.
      expect(m.input).toBeUndefined();
      expect(decodeJobInput(m).input).toStrictEqual(Float32Array.from(digitInput(0.25).pixels));
      expect([m.requestId, m.kind, m.task, m.hotkey]).toEqual([
        res.data.id,
        "paid",
        "digits",
        h.experts[m.uid]?.hotkey,
      ]);
    }
  });

  it("sends a tensor input as float32 bytes whatever the client's spelling, with the digest of those bytes", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const pixels = Array.from({ length: 784 }, (_, i) => (i % 256) / 255);
    const post = async (body: string) => {
      const res = await h.app.request("/v1/tasks/digits/infer", {
        method: "POST",
        headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", prefer: "respond-async" },
        body,
      });
      expect(res.status).toBe(202);
      const received = await h.queue.receive({ max: 10, waitSeconds: 0 });
      expect(received).toHaveLength(2);
      const messages = received.map((m) => JobMessage.parse(JSON.parse(m.body)));
      for (const m of messages) {
        const { input, digest } = decodeJobInput(m);
        expect(input).toStrictEqual(Float32Array.from(pixels));
        // A paid job's record is its request's (core/jobs/paid-job.ts): the digest the worker checks against.
        expect((await h.deps.requests.get(m.requestId))?.inputDigest).toBe(digest);
      }
      return messages.map((m) => m.tensor);
    };
    // A duplicate key (JSON.parse keeps the last one), then spaces and another spelling of the numbers (issue 13.4).
    const compact = JSON.stringify(pixels);
    const first = await post(`{ "input" : {"pixels":[0.5]}, "k":2, "input": { "pixels" : ${compact} } }`);
    const written = pixels.map((p, i) => (i % 3 === 0 ? p.toExponential().toUpperCase() : String(p))).join(" , ");
    const second = await post(`{ "input" : {"pixels":[0.5]}, "k":2, "input": { "pixels" : [ ${written} ] } }`);
    expect(second).toStrictEqual(first);
  });

  it("cancel releases the hold and marks the jobs canceled; a second cancel is the same answer", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 0 });
    if (!res.ok) throw new Error("infer");
    const c1 = await key.client.cancel(res.data.id);
    const c2 = await key.client.cancel(res.data.id);
    expect(c1.ok && c1.data.status).toBe("canceled");
    expect(c2.ok && c2.data.status).toBe("canceled");
    const jobs = await h.jobs.getMany([0, 1, 2].map((uid) => `${res.data.id}:${uid}`));
    expect(jobs.map((j) => j.status)).toEqual(["canceled", "canceled", "canceled"]);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held, usage.data.spent]).toEqual([10 * DIGITS_PRICE, 0, 0]);
  });

  it("expires after the deadline with no answer and releases the hold", async () => {
    const clock = manualClock();
    const h = await harness({ clock, config: { jobDeadlineSeconds: 30 } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error("infer");
    clock.advance(31_000);
    const job = await key.client.job(res.data.id);
    expect(job.ok && job.data.status).toBe("expired");
    expect(job.ok && job.data.cost).toBe(0);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.balance, usage.data.held]).toEqual([10 * DIGITS_PRICE, 0]);
  });

  it("a sync wait that outlives the deadline ends in the expired query object with nothing charged", async () => {
    const clock = manualClock();
    const h = await harness({ clock, config: { jobDeadlineSeconds: 2 } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 5 });
    expect(res.ok && [res.status, res.data.status]).toEqual([200, "expired"]);
    const usage = await key.client.usage();
    expect(usage.ok && usage.data.balance).toBe(10 * DIGITS_PRICE);
  });
});

describe("idempotency and credits", () => {
  it("the same Idempotency-Key and body gives the same job and one charge; another body is 422", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const r = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0, idempotencyKey: "same-key" });
      if (!r.ok) throw new Error(JSON.stringify(r.problem));
      ids.add(r.data.id);
    }
    expect(ids.size).toBe(1);
    const usage = await key.client.usage();
    expect(usage.ok && usage.data.held).toBe(2 * DIGITS_PRICE);
    const other = await key.client.infer("digits", digitInput(0.2), {
      k: 2,
      waitSeconds: 0,
      idempotencyKey: "same-key",
    });
    expect(!other.ok && [other.status, other.problem.code]).toEqual([422, "idempotency_mismatch"]);
  });

  it("refuses with 402 when the balance cannot cover price x k, and nothing is enqueued", async () => {
    const h = await harness();
    const key = await h.fundedKey(2 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 3, waitSeconds: 0, idempotencyKey: "retry-me" });
    expect(!res.ok && res.status).toBe(402);
    expect((await h.queue.depth()).visible).toBe(0);
    await h.admin.topUp(key.id, DIGITS_PRICE, "t1");
    const retried = await key.client.infer("digits", digitInput(), {
      k: 3,
      waitSeconds: 0,
      idempotencyKey: "retry-me",
    });
    expect(retried.ok && retried.status).toBe(202);
  });

  it("a top-up with the same Idempotency-Key credits once; with another amount it is 422", async () => {
    const h = await harness();
    const key = await h.fundedKey(0);
    const a = await h.admin.topUp(key.id, 500, "topup-1");
    const b = await h.admin.topUp(key.id, 500, "topup-1");
    expect(a.ok && a.data.balance).toBe(500);
    expect(b.ok && [b.data.balance, b.data.replay]).toEqual([500, true]);
    const c = await h.admin.topUp(key.id, 700, "topup-1");
    expect(!c.ok && c.status).toBe(422);
  });
});
