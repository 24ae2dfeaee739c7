import { describe, expect, it } from "vitest";
import { MemoryJobStore } from "../../adapters/tables/memory-jobs.ts";
import { MemoryScoreStore } from "../../adapters/tables/memory-scores.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import { settleOutcome } from "../api/flow/settle.ts";
import { DIGITS_PRICE } from "../api/testing/digits-catalog.ts";
import { answerQueuedJobs } from "../api/testing/fake-experts.ts";
import { digitInput, harness, manualClock } from "../api/testing/harness.ts";
import { handleSettleNotice, keepAnsweredHolds } from "./settler.ts";

const notice = (requestId: string) => JSON.stringify({ v: 1, requestId });

describe("settler", () => {
  it("captures a never-polled query from its notice alone, once, and drops what is not a notice", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    const announced: string[] = [];
    const announce = (id: string) => void announced.push(id);
    expect(await handleSettleNotice(h.deps, notice(res.data.id), announce)).toBe("pending");
    expect(announced).toEqual([]);
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    expect(await handleSettleNotice(h.deps, notice(res.data.id), announce)).toBe("settled");
    // The API's waiters in this process are told (they then only read the stored result).
    expect(announced).toEqual([res.data.id]);
    expect(await handleSettleNotice(h.deps, notice(res.data.id))).toBe("settled");
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: res.data.id }))?.status).toBe("captured");
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.spent, usage.data.held]).toEqual([2 * DIGITS_PRICE, 0]);
    for (const bad of [
      "{",
      JSON.stringify({ v: 1, requestId: "x", extra: 1 }),
      '{"v":1,"requestId":"a","requestId":"b"}',
    ]) {
      expect(await handleSettleNotice(h.deps, bad)).toBe("malformed");
    }
    expect(await handleSettleNotice(h.deps, notice("req_unknown"))).toBe("unknown");
  });

  it("asks for a retry when the answers are in but the fee split cannot be known (directory down)", async () => {
    const h = await harness();
    const { key, res } = await answeredQuery(h);
    const down = {
      ...h.deps,
      directory: { ...h.deps.directory, experts: () => Promise.reject(new Error("chain down")) },
    };
    expect(await handleSettleNotice(down, notice(res.data.id))).toBe("retry");
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: res.data.id }))?.status).toBe("held");
    expect(await handleSettleNotice(h.deps, notice(res.data.id))).toBe("settled");
  });

  it("the sweeper never releases an answered query's hold for free: it hands it to the settler instead", async () => {
    // The fake experts sign with the real time: the clock starts there so their signatures fall in the window.
    const clock = manualClock(Date.now());
    const h = await harness({ clock, config: { jobDeadlineSeconds: 30 } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const answered = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    const unanswered = await key.client.infer("digits", digitInput(0.1), { k: 2, waitSeconds: 0 });
    if (!answered.ok || !unanswered.ok) throw new Error("infer");
    // Only the first query's jobs are answered (one of its two), then the notices are lost.
    await answerQueuedJobs(h.queue, h.jobs, h.experts, { max: 1 });
    while ((await h.queue.receive({ max: 10, waitSeconds: 0 })).length > 0);
    const sent: string[] = [];
    const beforeRelease = keepAnsweredHolds({
      requests: h.deps.requests,
      jobs: h.jobs,
      settleQueue: { send: async (body) => void sent.push(body) },
      logger: h.deps.logger,
    });
    clock.advance(60 * 60_000);
    // The old sweep: both holds released, the answered one for free.
    await h.ledger.sweepHolds(clock.now(), { beforeRelease });
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: unanswered.data.id }))?.status).toBe("released");
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: answered.data.id }))?.status).toBe("held");
    expect(sent).toEqual([notice(answered.data.id)]);
    expect(await handleSettleNotice(h.deps, sent[0] ?? "")).toBe("settled");
    const view = await key.client.job(answered.data.id);
    expect(view.ok && [view.data.status, view.data.cost]).toEqual(["succeeded", DIGITS_PRICE]);
    expect((await h.ledger.getHold({ accountId: key.accountId, holdId: answered.data.id }))?.status).toBe("captured");
  });

  it("a newcomer's shadow answer is recorded, not averaged into the result nor paid by the client", async () => {
    const scores = new MemoryScoreStore();
    // The exploration lane: whoever is not routed answers in the shadow.
    const h = await harness({ experts: 3, explore: true, deps: { shadowAnswers: scores } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    const record = await h.deps.requests.get(res.data.id);
    const shadow = record?.shadow?.[0];
    if (shadow === undefined) throw new Error("no shadow expert");
    // Held for the routed experts only.
    expect(record?.holdAmount).toBe(2 * DIGITS_PRICE);
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    expect(await handleSettleNotice(h.deps, notice(res.data.id))).toBe("settled");
    expect(await handleSettleNotice(h.deps, notice(res.data.id))).toBe("settled");
    const view = await key.client.job(res.data.id);
    if (!view.ok || view.data.status !== "succeeded") throw new Error(JSON.stringify(view));
    expect(view.data.experts?.map((e) => e.uid)).not.toContain(shadow.uid);
    expect(view.data.experts).toHaveLength(2);
    expect(view.data.cost).toBe(2 * DIGITS_PRICE);
    expect(await h.ledger.payeeBalance(shadow.hotkey)).toBe(0);
    // Recorded once, however many notices came.
    expect(await scores.shadowAnswerCount(shadow.hotkey, 100)).toBe(1);

    // A notice that carries the shadow job's answer (and, as a worker sends it, names no uids): recorded without
    // reading that job back; one altered in transit is refused, and the stored answer is read and recorded instead.
    // It leaves settling to the routed jobs' notice: no routed job is read, and the query is still open after it.
    const jobReads: string[] = [];
    const counted = {
      ...h.deps,
      shadowAnswers: scores,
      jobs: Object.assign(Object.create(h.jobs), {
        getMany: (ids: readonly string[]) => {
          jobReads.push(...ids);
          return h.jobs.getMany(ids);
        },
      }),
    };
    for (const alter of [false, true]) {
      const next = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
      if (!next.ok) throw new Error(JSON.stringify(next.problem));
      const uid = (await h.deps.requests.get(next.data.id))?.shadow?.[0]?.uid ?? -1;
      await answerQueuedJobs(h.queue, h.jobs, h.experts);
      const shadowJob = `${next.data.id}:${uid}`;
      const [stored] = await h.jobs.getMany([shadowJob]);
      if (!stored?.answer) throw new Error("no shadow answer");
      const answer = alter
        ? { ...stored.answer, body: stored.answer.body.replace('"uid":', '"x":0,"uid":') }
        : stored.answer;
      const before = await scores.shadowAnswerCount(shadow.hotkey, 100);
      jobReads.length = 0;
      expect(
        await handleSettleNotice(
          counted,
          JSON.stringify({ v: 1, requestId: next.data.id, answers: [{ uid, answer }] }),
        ),
      ).toBe("pending");
      expect(jobReads).toEqual(alter ? [shadowJob] : []);
      expect(await scores.shadowAnswerCount(shadow.hotkey, 100)).toBe(before + 1);
      expect((await h.deps.requests.get(next.data.id))?.result).toBeUndefined();
      expect(await handleSettleNotice(counted, notice(next.data.id))).toBe("settled");
      expect(await scores.shadowAnswerCount(shadow.hotkey, 100)).toBe(before + 1);
    }
  });

  it("records a shadow answer once: by the notice that carries it, not also by the routed jobs' notice", async () => {
    const scores = new MemoryScoreStore();
    const puts: string[] = [];
    const counting = Object.assign(Object.create(scores), {
      recordShadowAnswer: (answer: Parameters<MemoryScoreStore["recordShadowAnswer"]>[0]) => {
        puts.push(answer.jobId);
        return scores.recordShadowAnswer(answer);
      },
    });
    const h = await harness({ experts: 3, explore: true, deps: { shadowAnswers: counting } });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    const record = await h.deps.requests.get(res.data.id);
    const shadowUid = record?.shadow?.[0]?.uid ?? -1;
    // Every job answered and stored, the shadow one too (it ran on another worker, or after the routed ones).
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    const stored = await h.jobs.getMany(
      [...(record?.experts ?? []), ...(record?.shadow ?? [])].map((e) => `${res.data.id}:${e.uid}`),
    );
    const carried = (uids: readonly number[]) =>
      stored.filter((j) => uids.includes(j.uid)).map((j) => ({ uid: j.uid, answer: j.answer }));
    const routed = (record?.experts ?? []).map((e) => e.uid);
    // The routed jobs' notice, as their worker sends it: their uids and answers. The shadow answer is not its to record.
    const routedNotice = JSON.stringify({ v: 1, requestId: res.data.id, uids: routed, answers: carried(routed) });
    expect(await handleSettleNotice(h.deps, routedNotice)).toBe("settled");
    expect(puts).toEqual([]);
    // A notice that lost an answer in parsing carries less than it was sent with: the shadow answer is read instead.
    const garbled = JSON.stringify({ v: 1, requestId: res.data.id, uids: routed, answers: [...carried(routed), 7] });
    expect(await handleSettleNotice(h.deps, garbled)).toBe("settled");
    expect(puts).toEqual([`${res.data.id}:${shadowUid}`]);
    // The shadow job's own notice records it again (one entry per job: the same item).
    const shadowNotice = JSON.stringify({ v: 1, requestId: res.data.id, answers: carried([shadowUid]) });
    expect(await handleSettleNotice(h.deps, shadowNotice)).toBe("settled");
    expect(puts).toEqual([`${res.data.id}:${shadowUid}`, `${res.data.id}:${shadowUid}`]);
    expect(await scores.shadowAnswerCount(record?.shadow?.[0]?.hotkey ?? "", 10)).toBe(1);

    // The client's waiters are told before the shadow lane is recorded: a failing score store delays no client (its
    // notice comes back to record the answer).
    const next = await key.client.infer("digits", digitInput(0.2), { k: 2, waitSeconds: 0 });
    if (!next.ok) throw new Error(JSON.stringify(next.problem));
    await answerQueuedJobs(h.queue, h.jobs, h.experts);
    const announced: string[] = [];
    const failing = {
      ...h.deps,
      shadowAnswers: { recordShadowAnswer: () => Promise.reject(new Error("scores down")) },
    };
    await expect(handleSettleNotice(failing, notice(next.data.id), (id) => void announced.push(id))).rejects.toThrow(
      "scores down",
    );
    expect(announced).toEqual([next.data.id]);
  });

  it("reads the jobs a notice names along with the request, and those it leaves out apart (the uids are a hint)", async () => {
    const h = await harness();
    const { deps, reads, lag } = withCountedReads(h);
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const query = async () => {
      const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
      if (!res.ok) throw new Error(JSON.stringify(res.problem));
      const uids = ((await h.deps.requests.get(res.data.id))?.experts ?? []).map((e) => e.uid);
      expect(uids).toHaveLength(2);
      await answerQueuedJobs(h.queue, h.jobs, h.experts);
      const hinted = (names: readonly number[]) => JSON.stringify({ v: 1, requestId: res.data.id, uids: names });
      return { id: res.data.id, uids, hinted };
    };
    const settledFor = async (id: string) => {
      const view = await key.client.job(id);
      return view.ok && [view.data.status, view.data.cost];
    };

    // Both answers in, both named: one eventually consistent read, trusted (a terminal job is final).
    const plain = await query();
    expect(await handleSettleNotice(deps, plain.hinted(plain.uids))).toBe("settled");
    expect(reads).toEqual([{ jobIds: plain.uids.map((u) => `${plain.id}:${u}`), eventually: true }]);
    expect(await settledFor(plain.id)).toEqual(["succeeded", 2 * DIGITS_PRICE]);

    // The cheap read lags behind the answers: read again, strongly, rather than drop the notice as "pending".
    reads.length = 0;
    lag(true);
    const stale = await query();
    expect(await handleSettleNotice(deps, stale.hinted(stale.uids))).toBe("settled");
    expect(reads.map((r) => r.eventually)).toEqual([true, false]);
    expect(await settledFor(stale.id)).toEqual(["succeeded", 2 * DIGITS_PRICE]);
    lag(false);

    // Names one expert and one the request does not have: the other's answer is still read and captured.
    reads.length = 0;
    const odd = await query();
    const named = [`${odd.id}:${odd.uids[0]}`, `${odd.id}:999`];
    expect(await handleSettleNotice(deps, odd.hinted([odd.uids[0] ?? 0, 999]))).toBe("settled");
    expect(reads).toEqual([
      { jobIds: named, eventually: true },
      { jobIds: named, eventually: false },
    ]);
    expect(await settledFor(odd.id)).toEqual(["succeeded", 2 * DIGITS_PRICE]);
    expect(await handleSettleNotice(deps, JSON.stringify({ v: 1, requestId: "x", uids: [70_000] }))).toBe("malformed");
  });

  it("settles on one read of the request when the notice carries its jobs' answers; a bad one costs a read, never the answer", async () => {
    const h = await harness();
    const counted = withCountedReads(h);
    const { reads } = counted;
    // The jobs read apart from the request (the JobStore's getMany).
    const jobReads: string[][] = [];
    const deps = {
      ...counted.deps,
      jobs: Object.assign(Object.create(h.jobs), {
        getMany: (ids: readonly string[]) => {
          jobReads.push([...ids]);
          return h.jobs.getMany(ids);
        },
      }),
    };
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const query = async () => {
      const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
      if (!res.ok) throw new Error(JSON.stringify(res.problem));
      const uids = ((await h.deps.requests.get(res.data.id))?.experts ?? []).map((e) => e.uid);
      await answerQueuedJobs(h.queue, h.jobs, h.experts);
      // The answers as the workers stored them: what a worker's notice carries (settle-notices.ts).
      const stored = await h.jobs.getMany(uids.map((u) => `${res.data.id}:${u}`));
      const answers = stored.map((j) => ({ uid: j.uid, answer: j.answer }));
      expect(answers.every((a) => a.answer !== undefined)).toBe(true);
      return { id: res.data.id, uids, answers };
    };
    const signaturesOf = async (id: string) => {
      const view = await key.client.job(id);
      if (!view.ok || view.data.status !== "succeeded") throw new Error(JSON.stringify(view));
      expect(view.data.cost).toBe(2 * DIGITS_PRICE);
      return view.data.experts?.map((e) => e.signedBody).sort();
    };

    // Both answers carried and sound: the request alone is read (no job), and the result holds exactly them.
    const carried = await query();
    const text = JSON.stringify({ v: 1, requestId: carried.id, uids: carried.uids, answers: carried.answers });
    expect(await handleSettleNotice(deps, text)).toBe("settled");
    expect(reads).toEqual([{ jobIds: [], eventually: true }]);
    expect(jobReads).toEqual([]);
    expect(await signaturesOf(carried.id)).toEqual(carried.answers.map((a) => a.answer?.body).sort());

    // One carried answer altered (its output no longer what was signed): refused, its job read instead, and the
    // stored answer is the one settled and paid; the sound one is still taken from the notice.
    reads.length = 0;
    jobReads.length = 0;
    const damaged = await query();
    const [first, second] = damaged.answers;
    if (!first?.answer || !second) throw new Error("answers");
    const altered = {
      uid: first.uid,
      answer: { ...first.answer, body: first.answer.body.replace(/"output":/, '"output":0,"x":') },
    };
    const bad = JSON.stringify({ v: 1, requestId: damaged.id, uids: damaged.uids, answers: [altered, second] });
    expect(await handleSettleNotice(deps, bad)).toBe("settled");
    expect(reads).toEqual([{ jobIds: [], eventually: true }]);
    expect(jobReads).toEqual([[`${damaged.id}:${first.uid}`]]);
    expect(await signaturesOf(damaged.id)).toEqual(damaged.answers.map((a) => a.answer?.body).sort());

    // An answer for an expert the notice does not name is not taken from it: that job is read apart.
    reads.length = 0;
    jobReads.length = 0;
    const unnamed = await query();
    const only = unnamed.uids[0] ?? 0;
    const partial = JSON.stringify({ v: 1, requestId: unnamed.id, uids: [only], answers: unnamed.answers });
    expect(await handleSettleNotice(deps, partial)).toBe("settled");
    expect(reads).toEqual([{ jobIds: [], eventually: true }]);
    expect(jobReads).toEqual([[`${unnamed.id}:${unnamed.uids[1]}`]]);

    // An answer carried under an expert the request does not have is neither taken nor a reason to read anything.
    reads.length = 0;
    jobReads.length = 0;
    const stranger = await query();
    const foreign = { uid: 999, answer: stranger.answers[0]?.answer };
    const odd = JSON.stringify({
      v: 1,
      requestId: stranger.id,
      uids: [...stranger.uids, 999],
      answers: [...stranger.answers, foreign],
    });
    expect(await handleSettleNotice(deps, odd)).toBe("settled");
    expect(reads).toEqual([{ jobIds: [], eventually: true }]);
    expect(jobReads).toEqual([]);
    expect(await signaturesOf(stranger.id)).toEqual(stranger.answers.map((a) => a.answer?.body).sort());
    expect(await signaturesOf(unnamed.id)).toEqual(unnamed.answers.map((a) => a.answer?.body).sort());
  });
});

describe("settler: a notice carrying answers nobody stored (issue 17)", () => {
  type Harness = Awaited<ReturnType<typeof harness>>;
  type Key = Awaited<ReturnType<Harness["fundedKey"]>>;

  /** A k = 2 query whose answers are signed as a worker signs them, but not in the market's job store. */
  async function unstoredQuery(h: Harness, key: Key) {
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
    if (!res.ok) throw new Error(JSON.stringify(res.problem));
    const uids = ((await h.deps.requests.get(res.data.id))?.experts ?? []).map((e) => e.uid);
    const elsewhere = new MemoryJobStore();
    await answerQueuedJobs(h.queue, elsewhere, h.experts);
    const answers = (await elsewhere.getMany(uids.map((u) => `${res.data.id}:${u}`))).map((j) => ({
      uid: j.uid,
      answer: j.answer,
    }));
    expect(answers.map((a) => a.answer !== undefined)).toEqual([true, true]);
    const text = (carried = answers) =>
      JSON.stringify({ v: 1, requestId: res.data.id, uids, answers: carried, unstored: true });
    return { id: res.data.id, uids, answers, text };
  }

  /** The harness's deps, with every write to the job store recorded. */
  function countedWrites(h: Harness) {
    const writes: string[] = [];
    const jobs = new Proxy(h.jobs, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== "function" || ["get", "getMany", "create"].includes(String(name))) return value;
        return (...args: unknown[]) => {
          writes.push(String(name));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as JobStore;
    return { deps: { ...h.deps, jobs }, writes };
  }

  async function outcome(key: Key, id: string) {
    const view = await key.client.job(id);
    if (!view.ok) throw new Error(JSON.stringify(view.problem));
    return {
      status: view.data.status,
      cost: view.data.cost,
      bodies: view.data.experts?.map((e) => e.signedBody).sort(),
    };
  }

  it("settles from the notice alone, writing no job; a redelivery charges nothing more", async () => {
    const h = await harness();
    const { deps, writes } = countedWrites(h);
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const q = await unstoredQuery(h, key);
    expect(await handleSettleNotice(deps, q.text())).toBe("settled");
    expect(writes).toEqual([]);
    const bodies = q.answers.map((a) => a.answer?.body).sort();
    expect(await outcome(key, q.id)).toEqual({ status: "succeeded", cost: 2 * DIGITS_PRICE, bodies });
    expect(await handleSettleNotice(deps, q.text())).toBe("settled");
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.spent, usage.data.held]).toEqual([2 * DIGITS_PRICE, 0]);
  });

  it("stores the answers it carries when it does not settle: another job still open, or the fee split unknown", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const q = await unstoredQuery(h, key);
    const [first, second] = q.answers;
    if (!first || !second) throw new Error("answers");
    // One answer of two: the query stays open, and the answer is stored as its worker would have stored it; should
    // that write fail, the notice is kept (its handling fails) rather than dropped as "pending".
    const tableDown = {
      ...h.deps,
      // As the stores report a write error: per entry (completeMany never rejects).
      jobs: Object.assign(Object.create(h.jobs), {
        completeMany: async (entries: readonly unknown[]) =>
          entries.map(() => ({ status: "rejected", reason: new Error("table down") })),
      }),
    };
    await expect(handleSettleNotice(tableDown, q.text([first]))).rejects.toThrow("table down");
    expect(await handleSettleNotice(h.deps, q.text([first]))).toBe("pending");
    expect((await h.jobs.get(`${q.id}:${first.uid}`))?.answer?.body).toBe(first.answer?.body);
    expect(await handleSettleNotice(h.deps, q.text([second]))).toBe("settled");
    const bodies = q.answers.map((a) => a.answer?.body).sort();
    expect(await outcome(key, q.id)).toEqual({ status: "succeeded", cost: 2 * DIGITS_PRICE, bodies });

    // Both in, but settling postponed (directory down): both stored, so the notice is no longer their only copy.
    const later = await unstoredQuery(h, key);
    const down = {
      ...h.deps,
      directory: { ...h.deps.directory, experts: () => Promise.reject(new Error("chain down")) },
    };
    expect(await handleSettleNotice(down, later.text())).toBe("retry");
    const stored = await h.jobs.getMany(later.uids.map((u) => `${later.id}:${u}`));
    expect(stored.map((j) => j.status)).toEqual(["succeeded", "succeeded"]);
    expect(await handleSettleNotice(h.deps, JSON.stringify({ v: 1, requestId: later.id }))).toBe("settled");
    expect((await outcome(key, later.id)).cost).toBe(2 * DIGITS_PRICE);
  });

  it("a settle that fails part way stores the answers first; one that cannot store them either keeps the notice", async () => {
    const clock = manualClock(Date.now());
    const h = await harness({ clock });
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const failingResult = withFailingResult(h);
    // Both queries now: their fake experts sign with the real time, which the clock then leaves behind.
    const q = await unstoredQuery(h, key);
    const r = await unstoredQuery(h, key);
    // Captured, then the result write fails: the answers are stored before the notice goes back, so a later poll
    // (this one past the deadline, as if the notice went to the dead-letter queue) settles with both.
    await expect(handleSettleNotice(failingResult, q.text())).rejects.toThrow("throttled");
    const stored = await h.jobs.getMany(q.uids.map((u) => `${q.id}:${u}`));
    expect(stored.map((j) => j.status)).toEqual(["succeeded", "succeeded"]);
    clock.advance(120_000);
    const bodies = q.answers.map((a) => a.answer?.body).sort();
    expect(await outcome(key, q.id)).toEqual({ status: "succeeded", cost: 2 * DIGITS_PRICE, bodies });

    // Neither the result nor the answers can be written: the settle fails (the notice stays, to come back). Meanwhile
    // a redelivered job stored one answer alone: a poll then charges nothing more and stores no result holding one
    // answer for the two charged; the notice, back, settles with both.
    const nothingWritten = {
      ...failingResult,
      jobs: Object.assign(Object.create(h.jobs), { completeMany: () => Promise.reject(new Error("table down")) }),
    };
    await expect(handleSettleNotice(nothingWritten, r.text())).rejects.toThrow("throttled");
    expect(await h.jobs.getMany(r.uids.map((u) => `${r.id}:${u}`))).toEqual([]);
    const [first] = r.answers;
    if (!first?.answer) throw new Error("answers");
    const base = { requestId: r.id, kind: "paid" as const, task: "digits", status: "queued" as const, attempts: 0 };
    const record = await h.deps.requests.get(r.id);
    const hotkey = record?.experts.find((e) => e.uid === first.uid)?.hotkey ?? "";
    const job = { ...base, jobId: `${r.id}:${first.uid}`, uid: first.uid, hotkey, createdAt: 0, deadline: 1 };
    expect((await h.jobs.complete(job.jobId, first.answer, clock.now(), job)).ok).toBe(true);
    expect((await outcome(key, r.id)).status).toBe("running");
    expect(await handleSettleNotice(h.deps, r.text())).toBe("settled");
    const both = r.answers.map((a) => a.answer?.body).sort();
    expect(await outcome(key, r.id)).toEqual({ status: "succeeded", cost: 2 * DIGITS_PRICE, bodies: both });
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.spent, usage.data.held]).toEqual([4 * DIGITS_PRICE, 0]);
  });

  it("a charge no answer in explains is left to its settle (the notice kept), then settled with it 5 min past the deadline", async () => {
    const clock = manualClock(Date.now());
    const h = await harness({ clock });
    const { key, res } = await answeredQuery(h);
    // Captured for both stored answers, then the result write fails.
    const failingResult = withFailingResult(h);
    await expect(handleSettleNotice(failingResult, notice(res.data.id))).rejects.toThrow("throttled");
    // The serving key is rotated out before the next try: no answer is accepted, and the hold is captured.
    const rotated = { ...h.deps, workerKeys: [] };
    expect(await handleSettleNotice(rotated, notice(res.data.id))).toBe("retry");
    expect((await settleOutcome(rotated, res.data.id)).view?.status).toBe("running");
    clock.advance(60_000 + 5 * 60_000 + 1);
    const late = await settleOutcome(rotated, res.data.id);
    expect([late.view?.status, late.view?.record.result?.cost]).toEqual(["failed", 2 * DIGITS_PRICE]);
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.spent, usage.data.held]).toEqual([2 * DIGITS_PRICE, 0]);
  });

  it("a cancel after such a settle captured leaves the result to it, and a redelivery after a crash finishes it", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const bodiesOf = (q: Awaited<ReturnType<typeof unstoredQuery>>) => q.answers.map((a) => a.answer?.body).sort();

    // The cancel runs between the settle's capture and its result write.
    const raced = await unstoredQuery(h, key);
    let canceled: unknown;
    const racing = {
      ...h.deps,
      requests: Object.assign(Object.create(h.deps.requests), {
        settle: async (...args: Parameters<Harness["deps"]["requests"]["settle"]>) => {
          const view = await key.client.cancel(raced.id);
          canceled = view.ok && view.data.status;
          return h.deps.requests.settle(...args);
        },
      }),
    };
    expect(await handleSettleNotice(racing, raced.text())).toBe("settled");
    expect(canceled).toBe("running");
    const charged = { status: "succeeded", cost: 2 * DIGITS_PRICE };
    expect(await outcome(key, raced.id)).toEqual({ ...charged, bodies: bodiesOf(raced) });

    // The settler stops between capture and result; the client cancels; the notice comes back.
    const crashed = await unstoredQuery(h, key);
    // Nothing written on the way down (a crash stores no answer either).
    const crashing = {
      ...h.deps,
      requests: Object.assign(Object.create(h.deps.requests), {
        settle: () => Promise.reject(new Error("crash")),
      }),
      jobs: Object.assign(Object.create(h.jobs), { completeMany: () => Promise.reject(new Error("crash")) }),
    };
    await expect(handleSettleNotice(crashing, crashed.text())).rejects.toThrow("crash");
    const view = await key.client.cancel(crashed.id);
    expect(view.ok && view.data.status).toBe("running");
    expect(await handleSettleNotice(h.deps, crashed.text())).toBe("settled");
    expect(await outcome(key, crashed.id)).toEqual({ ...charged, bodies: bodiesOf(crashed) });
    const usage = await key.client.usage();
    expect(usage.ok && [usage.data.spent, usage.data.held]).toEqual([4 * DIGITS_PRICE, 0]);
  });
});

/** A funded key's k = 2 query, both of its jobs answered (stored, as the fake experts store them). */
async function answeredQuery(h: Awaited<ReturnType<typeof harness>>) {
  const key = await h.fundedKey(10 * DIGITS_PRICE);
  const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
  if (!res.ok) throw new Error(JSON.stringify(res.problem));
  await answerQueuedJobs(h.queue, h.jobs, h.experts);
  return { key, res };
}

/** The harness's deps with every result write failing (a throttled table, a settler stopped before it). */
function withFailingResult(h: Awaited<ReturnType<typeof harness>>) {
  const requests = Object.assign(Object.create(h.deps.requests), {
    settle: () => Promise.reject(new Error("throttled")),
  });
  return { ...h.deps, requests };
}

/**
 * The harness's deps with the one-read method the DynamoDB request store has (the store itself:
 * test/dataplane-tables), counting its reads; `lag(true)` makes eventually consistent reads miss the jobs (a
 * replica's lag).
 */
function withCountedReads(h: Awaited<ReturnType<typeof harness>>) {
  const reads: { jobIds: string[]; eventually: boolean }[] = [];
  let lagging = false;
  const deps = {
    ...h.deps,
    requests: Object.assign(Object.create(h.deps.requests), {
      getWithJobs: async (requestId: string, jobIds: readonly string[], o?: { eventually?: boolean }) => {
        const eventually = o?.eventually === true;
        reads.push({ jobIds: [...jobIds], eventually });
        const jobs = eventually && lagging ? [] : await h.jobs.getMany(jobIds);
        return { record: await h.deps.requests.get(requestId), jobs };
      },
    }),
  };
  const lag = (on: boolean) => {
    lagging = on;
  };
  return { deps, reads, lag };
}
