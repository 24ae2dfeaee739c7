import { describe, expect, it } from "vitest";
import { MemoryScoreStore } from "../../adapters/tables/memory-scores.ts";
import type { RequestResult } from "../../core/ports/requests.ts";
import { DIGITS_PRICE } from "../api/testing/digits-catalog.ts";
import { answerQueuedJobs } from "../api/testing/fake-experts.ts";
import { digitInput, harness } from "../api/testing/harness.ts";
import { NoticeSettler } from "./notice-settler.ts";
import { handleSettleNotice } from "./settler.ts";

/** The harness, its requests' result writes counted, and one k = 2 query answered with its workers' notices' texts. */
async function setup(options: { shadow?: boolean } = {}) {
  const scores = new MemoryScoreStore();
  const h = await harness({ experts: 3, explore: options.shadow === true, deps: { shadowAnswers: scores } });
  const resultWrites: string[] = [];
  const requests = Object.assign(Object.create(h.deps.requests), {
    settle: (id: string, result: RequestResult) => {
      resultWrites.push(id);
      return h.deps.requests.settle(id, result);
    },
  });
  const deps = { ...h.deps, requests, shadowAnswers: scores };
  const key = await h.fundedKey(10 * DIGITS_PRICE);
  const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 0 });
  if (!res.ok) throw new Error(JSON.stringify(res.problem));
  const id = res.data.id;
  const record = await h.deps.requests.get(id);
  const uids = (record?.experts ?? []).map((e) => e.uid);
  const shadowUids = (record?.shadow ?? []).map((e) => e.uid);
  await answerQueuedJobs(h.queue, h.jobs, h.experts);
  const answerOf = async (uid: number) => {
    const [job] = await h.jobs.getMany([`${id}:${uid}`]);
    if (!job?.answer) throw new Error(`no answer for ${uid}`);
    return { uid, answer: job.answer };
  };
  // One notice per routed job, each with the answer its worker stored (the jobs ran in two receives).
  const texts = await Promise.all(
    uids.map(async (uid) => JSON.stringify({ v: 1, requestId: id, uids, answers: [await answerOf(uid)] })),
  );
  return { h, deps, scores, id, uids, shadowUids, texts, answerOf, resultWrites, record };
}

describe("NoticeSettler", () => {
  it("settles a query's notices one after another: one capture and one result write, not one per notice", async () => {
    const { h, deps, id, texts, resultWrites, record } = await setup();
    const settled: string[] = [];
    const settler = new NoticeSettler(deps, (requestId) => settled.push(requestId));
    const outcomes = await Promise.all(texts.map((t) => settler.handle(t)));
    expect(outcomes).toEqual(["settled", "settled"]);
    // The first notice settled it; the second, in line behind it, had nothing left to write.
    expect(resultWrites).toEqual([id]);
    expect(settled).toEqual([id]);
    const hold = await h.ledger.getHold({ accountId: record?.accountId ?? "", holdId: id });
    expect([hold?.status, hold?.captureAmount]).toEqual(["captured", 2 * DIGITS_PRICE]);
  });

  it("without the line, the same two notices side by side write the result twice (what it saves)", async () => {
    const { deps, id, texts, resultWrites } = await setup();
    expect(await Promise.all(texts.map((t) => handleSettleNotice(deps, t)))).toEqual(["settled", "settled"]);
    expect(resultWrites).toEqual([id, id]);
  });

  it("settles the notice after one that found the query open: it may carry the missing answer", async () => {
    const { deps, id, uids, texts, resultWrites, answerOf } = await setup();
    const [first] = uids;
    if (first === undefined) throw new Error("uids");
    // A notice naming only the first expert with its answer, handled while the second's job still reads as not
    // answered (the first read of jobs misses it); then, in line behind it, the second job's own notice.
    let lagging = true;
    const jobs = Object.assign(Object.create(deps.jobs), {
      getMany: (ids: readonly string[]) => {
        if (!lagging) return deps.jobs.getMany(ids);
        lagging = false;
        return Promise.resolve([]);
      },
    });
    const settler = new NoticeSettler({ ...deps, jobs });
    const early = JSON.stringify({ v: 1, requestId: id, uids: [first], answers: [await answerOf(first)] });
    const outcomes = await Promise.all([settler.handle(early), settler.handle(texts[1] ?? "")]);
    expect(outcomes).toEqual(["pending", "settled"]);
    expect(resultWrites).toEqual([id]);
  });

  it("shares one outcome for the same text, and drops what is not a notice", async () => {
    const { deps, id, texts, resultWrites } = await setup();
    // The first reads of the jobs (eventually consistent, then strongly) miss both answers: the notice finds the
    // query open. Its copies (a redelivery) share that outcome instead of settling again in line behind it.
    let jobReads = 0;
    const jobs = Object.assign(Object.create(deps.jobs), {
      getMany: (ids: readonly string[]) => {
        jobReads++;
        return jobReads <= 2 ? Promise.resolve([]) : deps.jobs.getMany(ids);
      },
    });
    const settler = new NoticeSettler({ ...deps, jobs });
    const text = texts[0] ?? "";
    expect(await Promise.all([settler.handle(text), settler.handle(text), settler.handle(text)])).toEqual([
      "pending",
      "pending",
      "pending",
    ]);
    expect(jobReads).toBe(2);
    expect(resultWrites).toEqual([]);
    // Once the line is gone, the same text is settled again as any notice.
    expect(await settler.handle(text)).toBe("settled");
    expect(resultWrites).toEqual([id]);
    expect(await settler.handle("{not json")).toBe("malformed");
    expect(await settler.handle(JSON.stringify({ v: 2, requestId: id }))).toBe("malformed");
  });

  it("settles the notice in line behind one whose settle failed", async () => {
    const { deps, id, texts, resultWrites } = await setup();
    let failures = 1;
    const requests = Object.assign(Object.create(deps.requests), {
      get: (requestId: string) => {
        if (failures-- > 0) return Promise.reject(new Error("table unavailable"));
        return deps.requests.get(requestId);
      },
    });
    const settler = new NoticeSettler({ ...deps, requests });
    const [first, second] = [settler.handle(texts[0] ?? ""), settler.handle(texts[1] ?? "")];
    await expect(first).rejects.toThrow("table unavailable");
    expect(await second).toBe("settled");
    expect(resultWrites).toEqual([id]);
  });

  it("records a newcomer's answer carried by a notice in line behind the settle", async () => {
    const { deps, scores, id, uids, shadowUids, texts, resultWrites, answerOf, record } = await setup({
      shadow: true,
    });
    const newcomer = shadowUids[0];
    const hotkey = record?.shadow?.[0]?.hotkey ?? "";
    if (newcomer === undefined) throw new Error("no shadow expert");
    // The newcomer's job does not read back (as if its write were not visible yet): only a notice carrying its
    // answer can have it recorded. The second routed job's notice carries it (their worker joined them).
    const shadowJob = `${id}:${newcomer}`;
    const jobs = Object.assign(Object.create(deps.jobs), {
      getMany: async (ids: readonly string[]) => (await deps.jobs.getMany(ids)).filter((j) => j.jobId !== shadowJob),
    });
    const [routedFirst, routedSecond] = texts;
    const joined = JSON.parse(routedSecond ?? "{}") as { answers: unknown[] };
    const withShadow = JSON.stringify({
      ...joined,
      v: 1,
      requestId: id,
      uids,
      answers: [...joined.answers, await answerOf(newcomer)],
    });
    const settler = new NoticeSettler({ ...deps, jobs });
    expect(await Promise.all([settler.handle(routedFirst ?? ""), settler.handle(withShadow)])).toEqual([
      "settled",
      "settled",
    ]);
    expect(resultWrites).toEqual([id]);
    expect(await scores.shadowAnswerCount(hotkey, 100)).toBe(1);
  });

  it("settles a notice that names no uids but carries a routed expert's answer, as any notice", async () => {
    const { deps, id, uids, texts, resultWrites, answerOf } = await setup();
    expect(texts).toHaveLength(2);
    const answers = await Promise.all(uids.map((uid) => answerOf(uid)));
    const settler = new NoticeSettler(deps);
    expect(await settler.handle(JSON.stringify({ v: 1, requestId: id, answers }))).toBe("settled");
    expect(resultWrites).toEqual([id]);
  });
});
