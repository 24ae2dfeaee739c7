import type { Hold } from "../../core/billing/schema.ts";
import { parseSettleNotice, type SettleNotice } from "../../core/jobs/settle-notice.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { RequestRecord, RequestStore } from "../../core/ports/requests.ts";
import type { ApiLogger } from "../api/deps.ts";
import { jobIdOf } from "../api/flow/ids.ts";
import { settleOutcome } from "../api/flow/settle.ts";
import { recordShadowAnswers, type ShadowDeps } from "../api/flow/shadow.ts";

/**
 * The settler: settlement that does not depend on the client. A worker sends a notice to the settle queue after
 * every terminal write of a paid job, or instead of its answers' write (core/jobs/settle-notice.ts: the request id,
 * its experts' uids, the answers its writes stored, or all of them unstored); the settler runs the same idempotent
 * settleRequest a poll runs, so the last answer of a query is captured within seconds whether or not anyone polls.
 * Carried answers are checked as stored ones are, and spare the settler reading their jobs back; unstored ones it
 * stores, with the result or as their worker would have (settle.ts). A notice for newcomers' shadow jobs alone only
 * records their answers (shadowNotice). The settler, not the worker, holds ledger access. Shared by the Lambda
 * (lambda.ts) and the local loop (loop.ts), through NoticeSettler (notice-settler.ts).
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
  const notice = parseNotice(deps, body);
  return notice === null ? "malformed" : (await settleNotice(deps, notice, onSettled)).outcome;
}

/** A notice from the queue, or null (logged) when it is not one of ours. */
export function parseNotice(deps: Pick<ShadowDeps, "logger">, body: string): SettleNotice | null {
  const notice = parseSettleNotice(body);
  if (notice === null) deps.logger.warn("settle notice dropped: malformed", { body: body.slice(0, 200) });
  return notice;
}

/** What handling a notice came to, with the request as it then stood (when it was read). */
export interface HandledNotice {
  readonly outcome: Exclude<NoticeOutcome, "malformed">;
  readonly record?: RequestRecord;
}

/** handleSettleNotice for a parsed notice, telling also the request it found. */
export async function settleNotice(
  deps: ShadowDeps,
  notice: SettleNotice,
  onSettled?: (requestId: string, record: RequestRecord) => void,
): Promise<HandledNotice> {
  const { requestId, uids, answers, unstored } = notice;
  if (uids === undefined && answers.length > 0) return shadowNotice(deps, notice, onSettled);
  const { view, postponed } = await settleOutcome(deps, requestId, uids, answers, unstored === true);
  if (view === null) return { outcome: postponed ? "retry" : "unknown" };
  if (postponed) return { outcome: "retry", record: view.record };
  // The client's waiters are told first: the shadow lane's recording below is not theirs to wait for.
  if (view.record.result) onSettled?.(requestId, view.record);
  // A newcomer's shadow answer that joined a routed job's notice (or, in a notice carrying none, is read from its
  // job) is recorded here; the client's part is untouched.
  if (view.record.shadow !== undefined) await recordShadowAnswers(deps, view.record, answers, carriesNone(notice));
  return { outcome: view.record.result ? "settled" : "pending", record: view.record };
}

/**
 * A worker's notice for newcomers' shadow jobs alone: it names no uids and carries their answers
 * (gpu-workers/settle-notices.ts: a routed job's notice always names its request's uids). The routed jobs' own
 * notices settle the query (the sweeper those that are lost), so this one only records the answers: the request is
 * read, eventually consistent (its experts and input digest never change), and no routed job (issue 17: a lone
 * shadow notice read the request and every routed job strongly, to settle a query that was rarely done yet); a
 * carried answer that does not check is read from its job, as ever. Strongly, should that read miss a request just
 * written. Should it carry a routed expert's answer after all, it is settled as any notice.
 */
async function shadowNotice(
  deps: ShadowDeps,
  notice: SettleNotice,
  onSettled?: (requestId: string, record: RequestRecord) => void,
): Promise<HandledNotice> {
  const { requestId, answers } = notice;
  const [read] = await deps.requests.getMany([requestId], { eventually: true });
  const record = read ?? (await deps.requests.get(requestId));
  if (record === null) return { outcome: "unknown" };
  if (answers.some((a) => record.experts.some((e) => e.uid === a.uid))) {
    return settleNotice(deps, { ...notice, uids: record.experts.map((e) => e.uid) }, onSettled);
  }
  await recordShadowAnswers(deps, record, answers, carriesNone(notice));
  if (!record.result) return { outcome: "pending", record };
  onSettled?.(requestId, record);
  return { outcome: "settled", record };
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

/**
 * Whether a notice carries none of the answers it was sent with (the sweeper's, left out, or lost in parsing): the
 * shadow answers it does not carry are then read from the table (functions/api/flow/shadow.ts).
 */
export function carriesNone(notice: SettleNotice): boolean {
  return notice.answers.length === 0 || notice.incomplete === true;
}
