import type { Hold } from "../../core/billing/schema.ts";
import { parseSettleNotice } from "../../core/jobs/settle-notice.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { RequestRecord, RequestStore } from "../../core/ports/requests.ts";
import type { ApiLogger } from "../api/deps.ts";
import { jobIdOf } from "../api/flow/ids.ts";
import { settleOutcome } from "../api/flow/settle.ts";
import { recordShadowAnswers, type ShadowDeps } from "../api/flow/shadow.ts";

/**
 * The settler: settlement that does not depend on the client. A worker sends a notice to the settle queue after
 * every terminal write of a paid job (core/jobs/settle-notice.ts: the request id, its experts' uids, the answers its
 * writes stored); the settler runs the same idempotent settleRequest a poll runs, so the last answer of a query is
 * captured within seconds whether or not anyone polls. Carried answers are checked as stored ones are, and spare
 * the settler reading their jobs back. The settler, not the worker,
 * holds ledger access. Shared by the Lambda (lambda.ts) and the local loop (loop.ts).
 */
export type NoticeOutcome =
  /** Settled now or before; or the request is not (any longer) there: the notice is done. */
  | "settled"
  | "unknown"
  /** Jobs still open: a later job's notice settles it (or the sweeper at the deadline). Done. */
  | "pending"
  /** Not one of ours: dropped. */
  | "malformed"
  /** All answers in but settling postponed (directory down): keep the notice, the queue redelivers it. */
  | "retry";

export async function handleSettleNotice(
  deps: ShadowDeps,
  body: string,
  onSettled?: (requestId: string, record: RequestRecord) => void,
): Promise<NoticeOutcome> {
  const notice = parseSettleNotice(body);
  if (notice === null) {
    deps.logger.warn("settle notice dropped: malformed", { body: body.slice(0, 200) });
    return "malformed";
  }
  const { requestId, uids, answers } = notice;
  const { view, postponed } = await settleOutcome(deps, requestId, uids, answers);
  if (postponed) return "retry";
  if (view === null) return "unknown";
  // A newcomer's shadow job sends its notice like any paid job: its answer is recorded, the client's part untouched.
  if (view.record.shadow !== undefined) await recordShadowAnswers(deps, view.record, answers);
  if (!view.record.result) return "pending";
  onSettled?.(requestId, view.record);
  return "settled";
}

export interface SweepSettleDeps {
  readonly requests: Pick<RequestStore, "get">;
  readonly jobs: Pick<JobStore, "getMany">;
  readonly settleQueue: Pick<JobQueue, "send">;
  readonly logger: ApiLogger;
}

/**
 * The sweeper's `beforeRelease`: a hold whose request has an answer in is never released for free. Instead of
 * releasing it, the sweeper hands the request to the settler (which, past the deadline, expires the open jobs,
 * captures what was answered and releases the rest) and keeps the hold until then. A hold with no request, an
 * already settled request, or no answer is released as before.
 */
export function keepAnsweredHolds(deps: SweepSettleDeps): (hold: Hold) => Promise<boolean> {
  return async (hold) => {
    const record = await deps.requests.get(hold.holdId);
    if (record === null || record.result !== undefined) return true;
    const jobs = await deps.jobs.getMany(record.experts.map((e) => jobIdOf(record.requestId, e.uid)));
    // A query with a webhook or counted against a spend limit must end with a stored result even when nobody polls
    // (its webhook message and its spend give-back follow the result): the settler expires it properly.
    const followUps = record.webhook !== undefined || record.spendCounted === true;
    if (!followUps && !jobs.some((j) => j.status === "succeeded")) return true;
    await deps.settleQueue.send(JSON.stringify({ v: 1, requestId: record.requestId }));
    deps.logger.warn("expired hold has answers or follow-ups: sent to the settler instead of released", {
      holdId: hold.holdId,
    });
    return false;
  };
}
