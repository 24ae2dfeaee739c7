import { describe, expect, it } from "vitest";
import { settledByNextTurn } from "../core/batching/clock.ts";
import type { ExpertAnswer, JobRecord } from "../core/jobs/schema.ts";
import type { NoticeAnswer } from "../core/jobs/settle-notice.ts";
import type { CompleteEntry, Transition } from "../core/ports/jobs.ts";
import { AnswersNotStoredError } from "./errors.ts";
import { CARRY_MARGIN_MS, SettleNotices } from "./settle-notices.ts";

function recorder(
  fail = false,
  options: { failWrite?: boolean; refused?: readonly string[]; failed?: readonly string[]; holdMs?: number } = {},
) {
  const sent: { requestId: string; uids?: readonly number[] }[] = [];
  /** The uids of the answers each notice carried, in sending order. */
  const carried: number[][] = [];
  /** The job ids of each write of answers, in writing order. */
  const writes: string[][] = [];
  const notices = new SettleNotices(
    async (requestId, uids, answers) => {
      sent.push({ requestId, ...(uids ? { uids } : {}) });
      carried.push(answers.map((a) => a.uid));
      if (fail) throw new Error("queue down");
    },
    async (entries) => {
      writes.push(entries.map((e) => e.jobId));
      if (options.failWrite) throw new Error("table down");
      return entries.map((e): PromiseSettledResult<Transition> => {
        if (options.failed?.includes(e.jobId)) return { status: "rejected", reason: new Error(`${e.jobId} throttled`) };
        const job = { jobId: e.jobId, status: "succeeded" } as JobRecord;
        return { status: "fulfilled", value: { ok: !options.refused?.includes(e.jobId), job } };
      });
    },
    // Long by default: the tests of grouping do not race the bound.
    options.holdMs ?? 60_000,
  );
  return { sent, carried, writes, notices };
}

/** An answer to store for job `jobId` (its content is the store's business, not the notifier's). */
const writeOf = (jobId: string, deadline = Date.now() + 60_000): CompleteEntry => ({
  jobId,
  answer: { body: jobId } as ExpertAnswer,
  at: 1,
  base: { jobId, deadline } as JobRecord,
});

/** A stored answer as the notice carries it (its content is the settler's to check, not the notifier's). */
const answerOf = (uid: number): NoticeAnswer => ({ uid, answer: { body: `answer ${uid}` } as ExpertAnswer });

const routed = { entered: true };

describe("SettleNotices", () => {
  it("sends one notice when the last of a request's jobs here is done; the first waits for it", async () => {
    const { sent, notices } = recorder();
    notices.enter("req-a");
    notices.enter("req-a");
    const first = notices.notify("req-a", [1, 7], routed);
    expect(await settledByNextTurn(first)).toBe(false);
    expect(sent).toEqual([]);
    const second = notices.notify("req-a", [1, 7], routed);
    await Promise.all([first, second]);
    expect(sent).toEqual([{ requestId: "req-a", uids: [1, 7] }]);
    notices.leave("req-a");
    notices.leave("req-a");
    expect(notices.tracked).toBe(0);
  });

  it("a lone job, or one never entered (validation, shadow, redelivery), tells at once", async () => {
    const { sent, notices } = recorder();
    notices.enter("req-b");
    await notices.notify("req-b", [3], routed);
    await notices.notify("req-c");
    expect(sent.map((s) => s.requestId)).toEqual(["req-b", "req-c"]);
  });

  it("a job that leaves without an answer (to be retried) releases those waiting for it", async () => {
    const { sent, notices } = recorder();
    notices.enter("req-d");
    notices.enter("req-d");
    const answered = notices.notify("req-d", [1, 2], routed);
    expect(await settledByNextTurn(answered)).toBe(false);
    notices.leave("req-d");
    await answered;
    expect(sent).toEqual([{ requestId: "req-d", uids: [1, 2] }]);
  });

  it("three jobs: the notice waits for the third, and a failed send fails every waiter", async () => {
    const { sent, notices } = recorder(true);
    for (let i = 0; i < 3; i++) notices.enter("req-e");
    const waiting = [notices.notify("req-e", [1, 2, 3], routed), notices.notify("req-e", [1, 2, 3], routed)];
    expect(await settledByNextTurn(Promise.race(waiting))).toBe(false);
    const last = notices.notify("req-e", [1, 2, 3], routed);
    await expect(last).rejects.toThrow("queue down");
    for (const w of waiting) await expect(w).rejects.toThrow("queue down");
    expect(sent).toHaveLength(1);
  });

  it("a shadow job joins the notice of routed jobs still running, and never holds them up", async () => {
    const { sent, notices } = recorder();
    notices.enter("req-f");
    // The newcomer's answer came first: it waits for the routed job's notice instead of sending its own.
    const shadow = notices.notify("req-f", [4]);
    expect(await settledByNextTurn(shadow)).toBe(false);
    await notices.notify("req-f", [4], routed);
    await shadow;
    expect(sent).toEqual([{ requestId: "req-f", uids: [4] }]);
    notices.leave("req-f");
    // A shadow answer after the routed ones are done tells on its own, at once.
    await notices.notify("req-f", [4]);
    expect(sent).toHaveLength(2);
    expect(notices.tracked).toBe(0);
  });

  it("the notice carries the answers its jobs stored: the waiting ones', the last one's, a shadow's that joined", async () => {
    const { sent, carried, notices } = recorder();
    for (let i = 0; i < 3; i++) notices.enter("req-g");
    const waiting = [
      notices.notify("req-g", [1, 2, 3], { ...routed, answer: answerOf(1) }),
      // A routed job whose write was refused (another delivery's answer is the job's) carries none.
      notices.notify("req-g", [1, 2, 3], routed),
      notices.notify("req-g", undefined, { answer: answerOf(9) }),
    ];
    await notices.notify("req-g", [1, 2, 3], { ...routed, answer: answerOf(3) });
    await Promise.all(waiting);
    expect(sent).toEqual([{ requestId: "req-g", uids: [1, 2, 3] }]);
    expect(carried).toEqual([[1, 9, 3]]);
    for (let i = 0; i < 3; i++) notices.leave("req-g");

    // A job that leaves to be retried releases the waiting one, whose answer still goes; nothing is carried twice.
    notices.enter("req-h");
    notices.enter("req-h");
    const answered = notices.notify("req-h", [1, 2], { ...routed, answer: answerOf(1) });
    notices.leave("req-h");
    await answered;
    notices.leave("req-h");
    await notices.notify("req-h", [1, 2]);
    expect(carried.slice(1)).toEqual([[1], []]);
  });

  it("a query's answers are written together once the last of its routed jobs here has one, each with its outcome", async () => {
    const { writes, sent, carried, notices } = recorder(false, { refused: ["r:2"] });
    for (let i = 0; i < 3; i++) notices.enter("r");
    const first = notices.answer("r", writeOf("r:1"), routed);
    // A shadow job's answer joins the routed ones still running, and never holds them up.
    const shadow = notices.answer("r", writeOf("r:9"));
    const second = notices.answer("r", writeOf("r:2"), routed);
    expect(await settledByNextTurn(Promise.race([first, shadow, second]))).toBe(false);
    expect(writes).toEqual([]);
    const third = await notices.answer("r", writeOf("r:3"), routed);
    expect(writes).toEqual([["r:1", "r:9", "r:2", "r:3"]]);
    expect([(await first).ok, (await shadow).ok, (await second).ok, third.ok]).toEqual([true, true, false, true]);
    // Then one notice for them all, as before.
    await Promise.all([1, 2, 3].map((uid) => notices.notify("r", [1, 2, 3], { ...routed, answer: answerOf(uid) })));
    expect(sent).toEqual([{ requestId: "r", uids: [1, 2, 3] }]);
    expect(carried).toEqual([[1, 2, 3]]);
    for (let i = 0; i < 3; i++) notices.leave("r");
    expect(notices.tracked).toBe(0);
    // A lone job, and a shadow job with no routed job running here, write at once.
    notices.enter("s");
    expect((await notices.answer("s", writeOf("s:1"), routed)).ok).toBe(true);
    expect((await notices.answer("t", writeOf("t:4"))).ok).toBe(true);
    expect(writes.slice(1)).toEqual([["s:1"], ["t:4"]]);
  });

  it("a job that ends without an answer releases the answers waiting for it, and the notice still goes once", async () => {
    const { writes, sent, notices } = recorder();
    // One leaves to be retried (no terminal write): the waiting answer is written at once.
    notices.enter("u");
    notices.enter("u");
    const waiting = notices.answer("u", writeOf("u:1"), routed);
    expect(await settledByNextTurn(waiting)).toBe(false);
    notices.leave("u");
    expect((await waiting).ok).toBe(true);
    expect(writes).toEqual([["u:1"]]);
    await notices.notify("u", [1, 2], routed);
    notices.leave("u");
    // One fails (its own terminal write, then its notice): the waiting answer is written, and one notice carries both.
    notices.enter("v");
    notices.enter("v");
    const answered = notices.answer("v", writeOf("v:1"), routed);
    const failed = notices.notify("v", [1, 2], routed);
    expect((await answered).ok).toBe(true);
    expect(await settledByNextTurn(failed)).toBe(false);
    await notices.notify("v", [1, 2], { ...routed, answer: answerOf(1) });
    await failed;
    expect(writes.slice(1)).toEqual([["v:1"]]);
    expect(sent.map((n) => n.requestId)).toEqual(["u", "v"]);
  });

  it("a write that fails fails every answer it carried", async () => {
    const { writes, notices } = recorder(false, { failWrite: true });
    notices.enter("w");
    notices.enter("w");
    const first = notices.answer("w", writeOf("w:1"), routed);
    const second = notices.answer("w", writeOf("w:2"), routed);
    await expect(first).rejects.toThrow("table down");
    await expect(second).rejects.toThrow("table down");
    expect(writes).toEqual([["w:1", "w:2"]]);
  });

  it("an answer waits for its siblings at most holdMs, and never within a second of its deadline", async () => {
    const { writes, sent, notices } = recorder(false, { holdMs: 30 });
    notices.enter("x");
    notices.enter("x");
    const started = Date.now();
    // Its sibling hangs: the answer is written alone once the bound has passed, not when the sibling is done.
    const alone = await notices.answer("x", writeOf("x:1"), routed);
    expect(alone.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(writes).toEqual([["x:1"]]);
    // Its notice still waits for the sibling (it may carry the other answer), which then writes alone.
    const notice = notices.notify("x", [1, 2], { ...routed, answer: answerOf(1) });
    expect(await settledByNextTurn(notice)).toBe(false);
    expect((await notices.answer("x", writeOf("x:2"), routed)).ok).toBe(true);
    await notices.notify("x", [1, 2], { ...routed, answer: answerOf(2) });
    await notice;
    expect(writes).toEqual([["x:1"], ["x:2"]]);
    expect(sent).toHaveLength(1);
    notices.leave("x");
    notices.leave("x");
    // A job whose deadline is near is written at once, sibling or not.
    notices.enter("y");
    notices.enter("y");
    const near = notices.answer("y", writeOf("y:1", Date.now() + 900), routed);
    expect(await settledByNextTurn(near)).toBe(true);
    expect(writes.at(-1)).toEqual(["y:1"]);
  });

  it("a job whose own write failed is failed alone: its siblings' stored answers stand", async () => {
    const { notices } = recorder(false, { failed: ["z:2"] });
    notices.enter("z");
    notices.enter("z");
    const first = notices.answer("z", writeOf("z:1"), routed);
    const second = notices.answer("z", writeOf("z:2"), routed);
    expect((await first).ok).toBe(true);
    await expect(second).rejects.toThrow("z:2 throttled");
  });

  describe("a request's routed answers all here at once (issue 17: carried, not written)", () => {
    /** A worker's SettleNotices that may carry answers unstored; `failSends` sends fail first. */
    function carrier(
      options: {
        failSends?: number;
        failWrite?: boolean;
        refused?: readonly string[];
        fits?: boolean;
        holdMs?: number;
      } = {},
    ) {
      const sends: { uids?: readonly number[]; carried: number[]; unstored: boolean }[] = [];
      const writes: string[][] = [];
      let failures = options.failSends ?? 0;
      const notices = new SettleNotices(
        async (_requestId, uids, answers, unstored) => {
          sends.push({ ...(uids ? { uids } : {}), carried: answers.map((a) => a.uid), unstored });
          if (failures-- > 0) throw new Error("queue down");
        },
        async (entries) => {
          writes.push(entries.map((e) => e.jobId));
          if (options.failWrite) throw new Error("table down");
          return entries.map((e): PromiseSettledResult<Transition> => {
            const job = { jobId: e.jobId, status: "succeeded" } as JobRecord;
            return { status: "fulfilled", value: { ok: !options.refused?.includes(e.jobId), job } };
          });
        },
        options.holdMs ?? 60_000,
        Date.now,
        () => options.fits ?? true,
      );
      return { sends, writes, notices };
    }

    /** A routed job's answer as the job handler stores it: its base names its expert. */
    const paidWrite = (requestId: string, uid: number, deadline = Date.now() + 60_000): CompleteEntry => ({
      jobId: `${requestId}:${uid}`,
      answer: { body: `answer ${uid}`, workerId: "w" } as ExpertAnswer,
      at: 1,
      base: { jobId: `${requestId}:${uid}`, uid, deadline, status: "queued" } as JobRecord,
    });

    /** Jobs `here` of a request routed to `uids` run on this worker, as the job handler runs them. */
    async function run(notices: SettleNotices, requestId: string, uids: number[], here = uids, deadline?: number) {
      for (const _ of here) notices.enter(requestId);
      const outcomes = await Promise.allSettled(
        here.map(async (uid) => {
          const write = paidWrite(requestId, uid, deadline);
          const stored = await notices.answer(requestId, write, { ...routed, uids });
          const answer = stored.ok ? { answer: { uid, answer: write.answer } } : {};
          await notices.notify(requestId, uids, { ...routed, ...answer });
          return stored;
        }),
      );
      for (const _ of here) notices.leave(requestId);
      return outcomes;
    }

    it("writes nothing: each job is told stored, and one notice carries them all, marked unstored", async () => {
      const { sends, writes, notices } = carrier();
      const outcomes = await run(notices, "r", [1, 2]);
      expect(outcomes.map((o) => o.status === "fulfilled" && o.value.ok)).toEqual([true, true]);
      const told = outcomes[0]?.status === "fulfilled" ? outcomes[0].value.job : null;
      expect(told).toMatchObject({ jobId: "r:1", status: "succeeded", answer: { body: "answer 1" }, workerId: "w" });
      expect(writes).toEqual([]);
      expect(sends).toEqual([{ uids: [1, 2], carried: [1, 2], unstored: true }]);
      expect(notices.tracked).toBe(0);
    });

    it("writes them as before when a routed job runs elsewhere, or when they do not fit one notice", async () => {
      const elsewhere = carrier();
      await run(elsewhere.notices, "r", [1, 2], [1]);
      expect(elsewhere.writes).toEqual([["r:1"]]);
      expect(elsewhere.sends).toEqual([{ uids: [1, 2], carried: [1], unstored: false }]);
      const large = carrier({ fits: false });
      await run(large.notices, "r", [1, 2]);
      expect(large.writes).toEqual([["r:1", "r:2"]]);
      expect(large.sends).toEqual([{ uids: [1, 2], carried: [1, 2], unstored: false }]);
    });

    it("writes them when the deadline is near, when a shadow answer is among them, or when a job of theirs still runs", async () => {
      // Under CARRY_MARGIN_MS from the deadline: a notice settled a little late would find the query expired.
      const near = carrier();
      await run(near.notices, "r", [1, 2], [1, 2], Date.now() + CARRY_MARGIN_MS - 500);
      expect(near.writes).toEqual([["r:1", "r:2"]]);
      expect(near.sends.map((n) => n.unstored)).toEqual([false]);

      // A newcomer's shadow answer that joined the routed ones: the notice would carry it as unstored too.
      const shadowed = carrier();
      shadowed.notices.enter("s");
      shadowed.notices.enter("s");
      const shadow = shadowed.notices.answer("s", paidWrite("s", 9), { uids: [1, 2] });
      const routedOnes = [1, 2].map((uid) =>
        shadowed.notices.answer("s", paidWrite("s", uid), { ...routed, uids: [1, 2] }),
      );
      await Promise.all([shadow, ...routedOnes]);
      expect(shadowed.writes).toEqual([["s:9", "s:1", "s:2"]]);

      // A second delivery of job 1 still runs here: the bound writes the ready answers, never carries them (they
      // would wait in the notice for it).
      const slow = carrier({ holdMs: 20 });
      for (let i = 0; i < 3; i++) slow.notices.enter("d");
      const ready = [1, 2].map((uid) => slow.notices.answer("d", paidWrite("d", uid), { ...routed, uids: [1, 2] }));
      expect((await Promise.all(ready)).map((t) => t.ok)).toEqual([true, true]);
      expect(slow.writes).toEqual([["d:1", "d:2"]]);
    });

    it("a notice that fails to carry them: they are written, and told as written ones (less one a write refused)", async () => {
      const { sends, writes, notices } = carrier({ failSends: 1, refused: ["r:2"] });
      const outcomes = await run(notices, "r", [1, 2]);
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
      expect(writes).toEqual([["r:1", "r:2"]]);
      expect(sends).toEqual([
        { uids: [1, 2], carried: [1, 2], unstored: true },
        { uids: [1, 2], carried: [1], unstored: false },
      ]);
    });

    it("neither carried nor written: every job of the notice fails so that it is not acknowledged", async () => {
      const { notices } = carrier({ failSends: 1, failWrite: true });
      const outcomes = await run(notices, "r", [1, 2]);
      for (const o of outcomes) {
        expect(o.status).toBe("rejected");
        if (o.status === "rejected") expect(o.reason).toBeInstanceOf(AnswersNotStoredError);
      }
    });
  });
});
