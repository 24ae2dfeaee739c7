import { describe, expect, it } from "vitest";
import { settledByNextTurn } from "../core/batching/clock.ts";
import type { ExpertAnswer } from "../core/jobs/schema.ts";
import type { NoticeAnswer } from "../core/jobs/settle-notice.ts";
import { SettleNotices } from "./settle-notices.ts";

function recorder(fail = false) {
  const sent: { requestId: string; uids?: readonly number[] }[] = [];
  /** The uids of the answers each notice carried, in sending order. */
  const carried: number[][] = [];
  const notices = new SettleNotices(async (requestId, uids, answers) => {
    sent.push({ requestId, ...(uids ? { uids } : {}) });
    carried.push(answers.map((a) => a.uid));
    if (fail) throw new Error("queue down");
  });
  return { sent, carried, notices };
}

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
});
