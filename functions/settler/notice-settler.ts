import type { SettleNotice } from "../../core/jobs/settle-notice.ts";
import type { RequestRecord } from "../../core/ports/requests.ts";
import { recordShadowAnswers, type ShadowDeps } from "../api/flow/shadow.ts";
import { carriesNone, type HandledNotice, type NoticeOutcome, parseNotice, settleNotice } from "./settler.ts";

interface RequestNotices {
  /** The last notice of the request in line: the next one waits for it. */
  tail: Promise<HandledNotice>;
  /** Notices in line by their text: the same text again shares their outcome. */
  readonly byText: Map<string, Promise<HandledNotice>>;
}

/**
 * Settles notices as they come, those of one request one after another (issue 17). A query's jobs may each send a
 * notice (they reached the worker in different receives, or two workers), within a millisecond of each other: one
 * query in ten at 16 clients (bench/RESULTS.md). Settled side by side, both read the request, both capture (the
 * second a replay) and both write the result, the second's conditional write refused and the record then read back.
 * In line, a notice after one that settled its query only records the newcomers' answers (as a settle of a settled
 * query would: those it carries, or all of them read from their jobs when it carries none); after one that found the
 * query still open (or failed), it is settled as usual, since it may carry the missing answer. The same text again
 * (a redelivery) shares the outcome of the one in line. One per settler loop (loop.ts) or Lambda invocation
 * (lambda.ts).
 */
export class NoticeSettler {
  private readonly requests = new Map<string, RequestNotices>();

  constructor(
    private readonly deps: ShadowDeps,
    private readonly onSettled?: (requestId: string, record: RequestRecord) => void,
  ) {}

  async handle(body: string): Promise<NoticeOutcome> {
    const notice = parseNotice(this.deps, body);
    if (notice === null) return "malformed";
    const entry = this.requests.get(notice.requestId);
    const same = entry?.byText.get(body);
    if (same) return (await same).outcome;
    const handled = entry
      ? entry.tail.then(
          (before) => this.after(before, notice),
          () => settleNotice(this.deps, notice, this.onSettled),
        )
      : settleNotice(this.deps, notice, this.onSettled);
    const line = entry ?? { tail: handled, byText: new Map<string, Promise<HandledNotice>>() };
    line.tail = handled;
    line.byText.set(body, handled);
    if (!entry) this.requests.set(notice.requestId, line);
    try {
      return (await handled).outcome;
    } finally {
      line.byText.delete(body);
      if (line.tail === handled) this.requests.delete(notice.requestId);
    }
  }

  /** A notice whose request's previous notice was just handled here. */
  private async after(before: HandledNotice, notice: SettleNotice): Promise<HandledNotice> {
    if (before.outcome !== "settled" || before.record?.result === undefined) {
      return settleNotice(this.deps, notice, this.onSettled);
    }
    // Settled (and announced) by the previous notice: nothing to read or write for the client's part.
    if (before.record.shadow !== undefined)
      await recordShadowAnswers(this.deps, before.record, notice.answers, carriesNone(notice));
    return before;
  }
}
