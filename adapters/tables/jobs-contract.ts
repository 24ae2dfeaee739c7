import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ExpertAnswer, JobRecord } from "../../core/jobs/schema.ts";
import type { JobStore, Transition } from "../../core/ports/jobs.ts";

const HOTKEY = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const T0 = 1_800_000_000_000;

export function makeJob(overrides: Partial<JobRecord> = {}): JobRecord {
  const jobId = overrides.jobId ?? `req-${randomUUID()}:3`;
  return {
    jobId,
    requestId: overrides.requestId ?? jobId.split(":")[0] ?? jobId,
    kind: "paid",
    task: "mnist",
    uid: 3,
    hotkey: HOTKEY,
    status: "queued",
    createdAt: T0,
    deadline: T0 + 30_000,
    attempts: 0,
    ...overrides,
  };
}

export function makeAnswer(workerId: string, output: unknown = { probs: [0.25, 0.75] }): ExpertAnswer {
  return {
    body: JSON.stringify({ output, workerId }),
    output,
    signature: {
      version: "2",
      timestamp: String(T0),
      uuid: randomUUID(),
      signedBy: HOTKEY,
      signedFor: "gateway",
      signature: `0x${"ab".repeat(64)}`,
    },
    modelSha256: "0".repeat(64),
    inferenceMs: 1.5,
    batchSize: 4,
    workerId,
  };
}

/** completeMany's outcomes, each of which must be a write's (a rejected one fails the test). */
function stored(results: PromiseSettledResult<Transition>[]): Transition[] {
  return results.map((r) => {
    if (r.status === "rejected") throw r.reason;
    return r.value;
  });
}

/** A paid job's id as the API makes it (`req_` + 24 hex digits, then the uid): stored on its request's jobs item. */
export const paidStyleJobId = (uid = 3) => `req_${randomBytes(12).toString("hex")}:${uid}`;

/**
 * The JobStore contract, run against every adapter (MemoryJobStore in a unit test, DynamoJobStore on dynalite in
 * an integration test) so that both keep the same rules.
 */
export function describeJobStoreContract(
  name: string,
  open: () => JobStore,
  /** The ids of the jobs it makes: an adapter may store paid jobs (jobs-keys.ts `jobPlace`) apart from others. */
  newJobId: () => string = () => `req-${randomUUID()}:3`,
): void {
  const newJob = (overrides: Partial<JobRecord> = {}) => makeJob({ jobId: newJobId(), ...overrides });
  /** Jobs of one request, one per uid, each with no record yet (their bases as the request implies them). */
  const siblings = (...uids: number[]) => {
    const first = newJob({ uid: uids[0] ?? 3 });
    const requestId = first.jobId.slice(0, first.jobId.lastIndexOf(":"));
    return uids.map((uid) =>
      makeJob({ jobId: `${requestId}:${uid}`, requestId, uid, inputDigest: "d".repeat(64), attempts: 1 }),
    );
  };
  describe(`JobStore contract: ${name}`, () => {
    it("creates a job once, always in status queued", async () => {
      const store = open();
      const job = newJob({ status: "running", attempts: 0 });
      expect(await store.create(job)).toBe(true);
      expect(await store.create(newJob({ jobId: job.jobId, task: "other" }))).toBe(false);
      expect(await store.get(job.jobId)).toEqual({ ...job, status: "queued" });
      expect(await store.get("no-such-job")).toBeNull();
    });

    it("markRunning counts attempts, keeps the first start and the latest worker", async () => {
      const store = open();
      const job = newJob();
      await store.create(job);
      const first = await store.markRunning(job.jobId, "w1", T0 + 1);
      const second = await store.markRunning(job.jobId, "w2", T0 + 2);
      expect(first).toMatchObject({ ok: true, job: { status: "running", attempts: 1, workerId: "w1" } });
      expect(second).toMatchObject({ ok: true, job: { attempts: 2, workerId: "w2", startedAt: T0 + 1 } });
      expect(await store.get(job.jobId)).toMatchObject({ status: "running", attempts: 2, startedAt: T0 + 1 });
    });

    it("markRunning with a claim passes only when every claimed field is the record's, and touches nothing else", async () => {
      const store = open();
      const job = newJob({ inputDigest: "d".repeat(64) });
      await store.create(job);
      const claim = {
        requestId: job.requestId,
        kind: job.kind,
        task: job.task,
        uid: job.uid,
        hotkey: job.hotkey,
        inputDigest: "d".repeat(64),
      };
      const wrong = [
        { requestId: "req-other" },
        { kind: "validation" as const },
        { task: "speech" },
        { uid: 4 },
        { hotkey: `${HOTKEY.slice(0, -1)}Z` },
        { inputDigest: "e".repeat(64) },
      ];
      for (const w of wrong) {
        expect(await store.markRunning(job.jobId, "forger", T0 + 1, { ...claim, ...w })).toEqual({
          ok: false,
          job: { ...job, status: "queued" },
        });
      }
      expect(await store.markRunning("no-such-job", "w1", T0 + 1, claim)).toEqual({ ok: false, job: null });
      const noDigest = newJob();
      await store.create(noDigest);
      expect(
        (await store.markRunning(noDigest.jobId, "w1", T0 + 1, { ...claim, requestId: noDigest.requestId })).ok,
      ).toBe(false);
      expect(await store.markRunning(job.jobId, "w1", T0 + 2, claim)).toMatchObject({
        ok: true,
        job: { status: "running", attempts: 1, workerId: "w1", startedAt: T0 + 2 },
      });
      await store.complete(job.jobId, makeAnswer("w1"), T0 + 3);
      expect(await store.markRunning(job.jobId, "w2", T0 + 4, claim)).toMatchObject({
        ok: false,
        job: { status: "succeeded", attempts: 1 },
      });
    });

    it("a job with no record yet: the first terminal write with a base creates it, and the first one wins", async () => {
      const store = open();
      const base = newJob({ inputDigest: "d".repeat(64), attempts: 1, startedAt: T0 + 1, workerId: "w1" });
      expect(await store.get(base.jobId)).toBeNull();
      // Without a base nothing is written: the port cannot invent a job.
      expect(await store.complete(base.jobId, makeAnswer("w1"), T0 + 2)).toEqual({ ok: false, job: null });
      expect(await store.get(base.jobId)).toBeNull();
      // Expiry before the deadline writes nothing, even with a base.
      expect((await store.expire(base.jobId, T0 + 5, base)).ok).toBe(false);
      expect(await store.get(base.jobId)).toBeNull();
      const answer = makeAnswer("w1", { probs: [1, 0] });
      const done = await store.complete(base.jobId, answer, T0 + 3, base);
      const stored = { ...base, status: "succeeded", answer, finishedAt: T0 + 3, workerId: "w1" };
      expect(done).toEqual({ ok: true, job: stored });
      expect(await store.get(base.jobId)).toEqual(stored);
      // A redelivery's second answer, a late cancel and a late expiry all lose to it.
      expect(await store.complete(base.jobId, makeAnswer("w2"), T0 + 4, base)).toEqual({ ok: false, job: stored });
      expect((await store.cancel(base.jobId, T0 + 4, base)).ok).toBe(false);
      expect((await store.expire(base.jobId, base.deadline + 1, base)).ok).toBe(false);
      expect(await store.get(base.jobId)).toEqual(stored);
      // A cancel that comes first wins over the answer the same way.
      const other = newJob({ inputDigest: "d".repeat(64) });
      expect(await store.cancel(other.jobId, T0 + 2, other)).toMatchObject({ ok: true, job: { status: "canceled" } });
      expect(await store.complete(other.jobId, makeAnswer("w1"), T0 + 3, other)).toMatchObject({
        ok: false,
        job: { status: "canceled" },
      });
      // Past the deadline, expiry is that first write; a job created eagerly still follows the usual rules.
      const late = newJob();
      expect(await store.expire(late.jobId, late.deadline + 1, late)).toMatchObject({
        ok: true,
        job: { status: "expired" },
      });
      const eager = newJob();
      await store.create(eager);
      expect(await store.fail(eager.jobId, { code: "x", message: "y", retryable: false }, T0 + 1, eager)).toMatchObject(
        {
          ok: true,
          job: { status: "failed", createdAt: eager.createdAt },
        },
      );
    });

    it("complete stores the answer; a second complete fails and leaves the first answer", async () => {
      const store = open();
      const job = newJob();
      await store.create(job);
      await store.markRunning(job.jobId, "w1", T0 + 1);
      const first = makeAnswer("w1", { probs: [1, 0] });
      const done = await store.complete(job.jobId, first, T0 + 5);
      expect(done).toEqual({
        ok: true,
        job: {
          ...job,
          status: "succeeded",
          attempts: 1,
          startedAt: T0 + 1,
          finishedAt: T0 + 5,
          workerId: "w1",
          answer: first,
        },
      });
      const again = await store.complete(job.jobId, makeAnswer("w2", { probs: [0, 1] }), T0 + 6);
      expect(again.ok).toBe(false);
      expect(again.job?.answer).toEqual(first);
      expect((await store.get(job.jobId))?.answer).toEqual(first);
    });

    it("concurrent complete from two writers: exactly one wins and its answer is the one stored", async () => {
      const store = open();
      const jobs = Array.from({ length: 12 }, () => newJob());
      for (const job of jobs) await store.create(job);
      await Promise.all(
        jobs.map(async (job) => {
          const a = makeAnswer("writer-a", { from: "a" });
          const b = makeAnswer("writer-b", { from: "b" });
          const [ra, rb] = await Promise.all([
            store.complete(job.jobId, a, T0 + 7),
            store.complete(job.jobId, b, T0 + 7),
          ]);
          expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
          const winner = ra.ok ? a : b;
          const loser = ra.ok ? rb : ra;
          expect(loser.job?.answer).toEqual(winner);
          const stored = await store.get(job.jobId);
          expect(stored?.answer).toEqual(winner);
          expect(stored?.workerId).toBe(winner.workerId);
        }),
      );
    });

    it("no transition leaves a terminal status, markRunning included", async () => {
      const store = open();
      const ends = {
        succeeded: (id: string) => store.complete(id, makeAnswer("w1"), T0 + 40_000),
        failed: (id: string) => store.fail(id, { code: "model", message: "boom", retryable: false }, T0 + 40_000),
        canceled: (id: string) => store.cancel(id, T0 + 40_000),
        expired: (id: string) => store.expire(id, T0 + 40_000),
      };
      for (const [status, end] of Object.entries(ends)) {
        const job = newJob();
        await store.create(job);
        await store.markRunning(job.jobId, "w1", T0 + 1);
        expect(await end(job.jobId)).toMatchObject({ ok: true, job: { status, finishedAt: T0 + 40_000 } });
        const before = await store.get(job.jobId);
        const running = await store.markRunning(job.jobId, "w9", T0 + 50_000);
        expect(running).toEqual({ ok: false, job: before });
        for (const other of Object.values(ends)) expect((await other(job.jobId)).ok).toBe(false);
        expect(await store.get(job.jobId)).toEqual(before);
      }
    });

    it("fail stores the error", async () => {
      const store = open();
      const job = newJob();
      await store.create(job);
      const error = { code: "input", message: "bad shape", retryable: false };
      expect(await store.fail(job.jobId, error, T0 + 3)).toMatchObject({ ok: true, job: { status: "failed", error } });
    });

    it("cancel works from queued and from running", async () => {
      const store = open();
      const queued = newJob();
      const running = newJob();
      await store.create(queued);
      await store.create(running);
      await store.markRunning(running.jobId, "w1", T0 + 1);
      expect(await store.cancel(queued.jobId, T0 + 2)).toMatchObject({ ok: true, job: { status: "canceled" } });
      expect(await store.cancel(running.jobId, T0 + 2)).toMatchObject({ ok: true, job: { status: "canceled" } });
    });

    it("expire only once the deadline has passed", async () => {
      const store = open();
      const job = newJob({ deadline: T0 + 30_000 });
      await store.create(job);
      const early = await store.expire(job.jobId, T0 + 29_999);
      expect(early).toEqual({ ok: false, job: { ...job, status: "queued" } });
      expect(await store.expire(job.jobId, T0 + 30_000)).toMatchObject({ ok: true, job: { status: "expired" } });
    });

    it("transitions of a missing job fail with no record", async () => {
      const store = open();
      expect(await store.markRunning("missing", "w1", T0)).toEqual({ ok: false, job: null });
      expect(await store.complete("missing", makeAnswer("w1"), T0)).toEqual({ ok: false, job: null });
      expect(await store.cancel("missing", T0)).toEqual({ ok: false, job: null });
      expect(await store.get("missing")).toBeNull();
    });

    it("createMany creates the missing jobs in status queued and returns the existing ones untouched", async () => {
      const store = open();
      const answered = newJob();
      const queued = newJob();
      expect(await store.create(answered)).toBe(true);
      expect(await store.create(queued)).toBe(true);
      expect((await store.complete(answered.jobId, makeAnswer("w1"), T0 + 1)).ok).toBe(true);
      const before = await store.get(answered.jobId);
      // More than one batch write's worth, so that the chunking is exercised too.
      const fresh = Array.from({ length: 30 }, () => newJob({ status: "running", attempts: 2 }));
      const rewritten = [answered, queued].map((job) => ({ ...job, task: "other", deadline: T0 + 99_000 }));
      const existing = await store.createMany([...fresh, ...rewritten]);
      expect(existing.map((job) => job.jobId).sort()).toEqual([answered.jobId, queued.jobId].sort());
      expect(existing.find((job) => job.jobId === answered.jobId)).toEqual(before);
      expect(await store.get(answered.jobId)).toEqual(before);
      expect(await store.get(queued.jobId)).toEqual({ ...queued, status: "queued" });
      const created = await store.getMany(fresh.map((job) => job.jobId));
      expect(created).toEqual(fresh.map((job) => ({ ...job, status: "queued" })));
      // A second call creates nothing and finds them all.
      expect(await store.createMany(fresh)).toHaveLength(fresh.length);
      expect(await store.createMany([])).toEqual([]);
    });

    it("getMany returns existing jobs in the order asked, each once, across more than 100 keys", async () => {
      const store = open();
      const jobs = Array.from({ length: 130 }, () => newJob());
      for (const job of jobs) await store.create(job);
      const ids = [...jobs.map((job) => job.jobId)].reverse();
      const asked = [...ids, "missing-1", ids[0] ?? "", "missing-2"];
      const found = await store.getMany(asked);
      expect(found.map((job) => job.jobId)).toEqual(ids);
      expect(await store.getMany([])).toEqual([]);
    });

    it("completeMany stores each answer once, and a job finished before keeps its end", async () => {
      const store = open();
      const [a, b] = siblings(3, 4);
      if (!a || !b) throw new Error("unreachable");
      const answerA = makeAnswer("w1", { probs: [1, 0] });
      const answerB = makeAnswer("w1", { probs: [0, 1] });
      const done = stored(
        await store.completeMany([
          { jobId: a.jobId, answer: answerA, at: T0 + 3, base: a },
          { jobId: b.jobId, answer: answerB, at: T0 + 4, base: b },
        ]),
      );
      const storedA = { ...a, status: "succeeded", answer: answerA, finishedAt: T0 + 3, workerId: "w1" };
      const storedB = { ...b, status: "succeeded", answer: answerB, finishedAt: T0 + 4, workerId: "w1" };
      expect(done).toEqual([
        { ok: true, job: storedA },
        { ok: true, job: storedB },
      ]);
      expect(await store.getMany([b.jobId, a.jobId])).toEqual([storedB, storedA]);
      // A redelivery's answers, together or alone, lose to them; so do a late cancel and expiry.
      const again = stored(
        await store.completeMany([
          { jobId: a.jobId, answer: makeAnswer("w2"), at: T0 + 5, base: a },
          { jobId: b.jobId, answer: makeAnswer("w2"), at: T0 + 5, base: b },
        ]),
      );
      expect(again).toEqual([
        { ok: false, job: storedA },
        { ok: false, job: storedB },
      ]);
      expect((await store.cancel(a.jobId, T0 + 6, a)).ok).toBe(false);
      expect((await store.expire(b.jobId, b.deadline + 1, b)).ok).toBe(false);
      expect(await store.getMany([a.jobId, b.jobId])).toEqual([storedA, storedB]);

      // One of them canceled first: it stays canceled, and the other's answer is stored all the same.
      const [c, d, e] = siblings(5, 6, 7);
      if (!c || !d || !e) throw new Error("unreachable");
      expect((await store.cancel(d.jobId, T0 + 2, d)).ok).toBe(true);
      const mixed = stored(
        await store.completeMany([
          { jobId: c.jobId, answer: answerA, at: T0 + 3, base: c },
          { jobId: d.jobId, answer: answerB, at: T0 + 3, base: d },
          { jobId: e.jobId, answer: answerB, at: T0 + 3, base: e },
        ]),
      );
      expect(mixed.map((t) => [t.ok, t.job?.status])).toEqual([
        [true, "succeeded"],
        [false, "canceled"],
        [true, "succeeded"],
      ]);
      expect((await store.get(d.jobId))?.status).toBe("canceled");
      expect((await store.get(e.jobId))?.answer).toEqual(answerB);
      // Jobs of different requests, and an empty call.
      const [f] = siblings(3);
      const [g] = siblings(3);
      if (!f || !g) throw new Error("unreachable");
      const apart = stored(
        await store.completeMany([
          { jobId: f.jobId, answer: answerA, at: T0 + 3, base: f },
          { jobId: g.jobId, answer: answerB, at: T0 + 3, base: g },
        ]),
      );
      expect(apart.map((t) => t.ok)).toEqual([true, true]);
      expect(await store.completeMany([])).toEqual([]);
      // An answer that does not parse fails its own job only.
      const [h, i] = siblings(3, 4);
      if (!h || !i) throw new Error("unreachable");
      const broken = await store.completeMany([
        { jobId: h.jobId, answer: { body: 1 } as unknown as ExpertAnswer, at: T0 + 3, base: h },
        { jobId: i.jobId, answer: answerB, at: T0 + 3, base: i },
      ]);
      expect(broken.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
      expect((await store.getMany([h.jobId, i.jobId])).map((j) => j.jobId)).toEqual([i.jobId]);
    });

    it("a request's jobs are each their own: one job's transitions leave its siblings as they were", async () => {
      const store = open();
      const [a, b, c] = siblings(3, 4, 5);
      if (!a || !b || !c) throw new Error("unreachable");
      await store.create({ ...a, attempts: 0 });
      expect((await store.markRunning(a.jobId, "w1", T0 + 1)).job).toMatchObject({ status: "running", attempts: 1 });
      expect((await store.complete(b.jobId, makeAnswer("w1"), T0 + 2, b)).ok).toBe(true);
      expect((await store.fail(a.jobId, { code: "x", message: "y", retryable: false }, T0 + 3)).job).toMatchObject({
        status: "failed",
        attempts: 1,
        startedAt: T0 + 1,
      });
      expect(await store.get(c.jobId)).toBeNull();
      // A transition of a job with no record beside siblings that have theirs: refused, nothing written.
      expect(await store.cancel(c.jobId, T0 + 2)).toEqual({ ok: false, job: null });
      expect(await store.markRunning(c.jobId, "w1", T0 + 2)).toEqual({ ok: false, job: null });
      expect(await store.get(c.jobId)).toBeNull();
      expect((await store.get(b.jobId))?.status).toBe("succeeded");
      expect((await store.expire(c.jobId, c.deadline + 1, c)).job?.status).toBe("expired");
      expect((await store.getMany([a.jobId, b.jobId, c.jobId])).map((j) => j.status)).toEqual([
        "failed",
        "succeeded",
        "expired",
      ]);
    });
  });
}
