import { describe, expect, it } from "vitest";
import { settledByNextTurn } from "../core/batching/clock.ts";
import { SettleNotices } from "./settle-notices.ts";

function recorder(fail = false) {
  const sent: { requestId: string; uids?: readonly number[] }[] = [];
  const notices = new SettleNotices(async (requestId, uids) => {
    sent.push({ requestId, ...(uids ? { uids } : {}) });
    if (fail) throw new Error("queue down");
  });
  return { sent, notices };
}

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
});
