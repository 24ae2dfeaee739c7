import { describe, expect, it } from "vitest";
import {
  MAX_NOTICE_ANSWERS,
  MAX_NOTICE_BYTES,
  MAX_NOTICE_TEXT,
  type NoticeAnswer,
  parseSettleNotice,
  settleNoticeText,
} from "./settle-notice.ts";

const answer = (uid: number, outputBytes = 10): NoticeAnswer => ({
  uid,
  answer: {
    body: JSON.stringify({ jobId: `r:${uid}` }),
    output: "x".repeat(outputBytes),
    signature: {
      version: "2",
      timestamp: "1",
      uuid: "7d2b0c4e-4f7a-4d3e-9a1b-2c3d4e5f6a7b",
      signedBy: "5".repeat(48),
      signedFor: "",
      signature: `0x${"ab".repeat(64)}`,
    },
    modelSha256: "a".repeat(64),
    inferenceMs: 0.1,
    batchSize: 1,
    workerId: "w",
  },
});

describe("settle notice text", () => {
  it("carries the answers, and reads back as the settler parses it", () => {
    const text = settleNoticeText("req", [1, 2], [answer(1), answer(2)]);
    const notice = parseSettleNotice(text);
    expect(notice?.answers.map((a) => a.uid)).toEqual([1, 2]);
    expect(notice?.uids).toEqual([1, 2]);
    expect(JSON.parse(settleNoticeText("req", undefined, []))).toEqual({ v: 1, requestId: "req" });
  });

  it("leaves the answers out when they would cost a second SQS request, or are more than a notice carries", () => {
    // Past the limit by one answer's output: the notice goes bare (the settler reads those jobs).
    const big = settleNoticeText("req", [1], [answer(1, MAX_NOTICE_BYTES)]);
    expect(JSON.parse(big)).toEqual({ v: 1, requestId: "req", uids: [1] });
    const fits = settleNoticeText("req", [1], [answer(1, MAX_NOTICE_BYTES - 1024)]);
    expect(new TextEncoder().encode(fits).length).toBeLessThanOrEqual(MAX_NOTICE_BYTES);
    expect(parseSettleNotice(fits)?.answers).toHaveLength(1);
    const many = Array.from({ length: MAX_NOTICE_ANSWERS + 1 }, (_, i) => answer(i));
    expect(JSON.parse(settleNoticeText("req", [1], many))).toEqual({ v: 1, requestId: "req", uids: [1] });
    // And a notice that carries more anyway is refused by the settler's parse.
    const forced = JSON.stringify({ v: 1, requestId: "req", answers: many });
    expect(parseSettleNotice(forced)).toBeNull();
  });

  it("the settler's parse: bounded before parsing, and an answer that does not parse costs only itself", () => {
    const text = settleNoticeText("req", [1, 2], [answer(1), answer(2)]);
    const broken = JSON.parse(text) as { answers: { answer: { batchSize: unknown } }[] };
    if (broken.answers[0]) broken.answers[0].answer.batchSize = "many";
    const notice = parseSettleNotice(JSON.stringify(broken));
    expect(notice?.requestId).toBe("req");
    expect(notice?.answers.map((a) => a.uid)).toEqual([2]);
    // Longer than any notice a worker sends: dropped unread, whatever it holds.
    const long = JSON.stringify({ v: 1, requestId: "req", pad: "x".repeat(MAX_NOTICE_TEXT) });
    expect(parseSettleNotice(long)).toBeNull();
    expect(parseSettleNotice(JSON.stringify({ v: 1, requestId: "req", extra: 1 }))).toBeNull();
    expect(parseSettleNotice('{"v":1,"requestId":"a","requestId":"b"}')).toBeNull();
  });
});
