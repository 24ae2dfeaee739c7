import { captureAmount, splitCost } from "../../../core/billing/pricing.ts";
import { PLATFORM_PAYEE, type ShareCredit } from "../../../core/billing/schema.ts";
import { paidJobOf } from "../../../core/jobs/paid-job.ts";
import { type JobRecord, TERMINAL_JOB_STATUSES } from "../../../core/jobs/schema.ts";
import type { NoticeAnswer } from "../../../core/jobs/settle-notice.ts";
import type { HoldRef } from "../../../core/ports/ledger.ts";
import type { RequestRecord, RequestResult, RequestStatus } from "../../../core/ports/requests.ts";
import { outputDigest, signReceipt } from "../../../core/receipts/receipt.ts";
import type { ApiDeps, DirectoryExpert } from "../deps.ts";

/**
 * What settling needs: the API has it all, the settler (functions/settler) exactly this. No queue, no keys, no
 * router: settling reads jobs and requests, writes the ledger and the request's result, and signs the receipt.
 */
export type SettleDeps = Pick<
  ApiDeps,
  | "requests"
  | "jobs"
  | "ledger"
  | "tasks"
  | "directory"
  | "gatewaySigner"
  | "verifier"
  | "workerKeys"
  | "clock"
  | "logger"
  | "spend"
  | "webhooks"
> & { readonly config: Pick<ApiDeps["config"], "platformCutBps"> };

import { afterSettle } from "./after-settle.ts";
import { type AnswerCheck, checkAnswer, checkCarriedAnswer, renormalise } from "./answers.ts";
import { jobIdOf } from "./ids.ts";

/** A request that never got its jobs out (crash before enqueue) is given up this long after its deadline. */
const HOLDING_GRACE_MS = 5_000;

export interface RequestView {
  readonly record: RequestRecord;
  readonly status: RequestStatus;
}

/**
 * Looks at a request and, when every job is finished (or the deadline passed), settles it: verifies the signed
 * answers, combines them, captures only what was answered and releases the rest, signs the receipt, and stores
 * the result (first writer wins). Idempotent: any number of pollers may call it; the ledger steps are keyed by the
 * request id and the job states it reads are final.
 */
export async function settleRequest(deps: SettleDeps, requestId: string): Promise<RequestView | null> {
  return (await settleOutcome(deps, requestId)).view;
}

/**
 * settleRequest, telling also whether the answers were all in but settling had to be postponed (the directory
 * down: nothing was charged): the settler then retries its notice instead of dropping it.
 */
export async function settleOutcome(
  deps: SettleDeps,
  requestId: string,
  /** The experts' uids as the notice names them: their jobs are read along with the request. */
  uids?: readonly number[],
  /** Answers the notice carries (its worker stored them, or none did): checked here, and their jobs then not read. */
  answers?: readonly NoticeAnswer[],
  /**
   * The notice's routed answers were not stored (core/jobs/settle-notice.ts): the notice is their only copy, so
   * whenever this settle does not store the result they are stored as their worker would have.
   */
  unstored?: boolean,
): Promise<{ readonly view: RequestView | null; readonly postponed: boolean }> {
  const view = await settleView(deps, requestId, uids, answers, unstored === true);
  return view === POSTPONED ? { view: await viewOf(deps, requestId), postponed: true } : { view, postponed: false };
}

const POSTPONED = Symbol("postponed");

async function viewOf(deps: SettleDeps, requestId: string): Promise<RequestView | null> {
  const record = await deps.requests.get(requestId);
  return record && { record, status: record.result?.status ?? "running" };
}

/**
 * The request and, when a notice named its experts' uids and the store can, their jobs in the same read (one
 * BatchGetItem, issue 17). The uids are a hint (a notice is not authenticated): jobs of experts the record has and
 * the notice did not name are read apart, and jobs it named that the record lacks are never looked at. A job whose
 * answer the notice carries is not read when that answer checks against the request (as a stored one would be
 * checked): its worker stored exactly it, first write wins, so the table holds the same answer; or, in an unstored
 * notice, nobody stored it, and this settle's result write (or storeCarried) is its first.
 */
async function requestAndJobs(
  deps: SettleDeps,
  requestId: string,
  uids: readonly number[] | undefined,
  answers: readonly NoticeAnswer[] = [],
): Promise<{ record: RequestRecord | null; jobs?: JobRecord[] }> {
  if (uids === undefined) return { record: await deps.requests.get(requestId) };
  // A store without the one read (the in-memory one) reads the request and the jobs apart.
  const getWithJobs =
    deps.requests.getWithJobs?.bind(deps.requests) ??
    (async (id: string, jobIds: readonly string[]) => ({
      record: await deps.requests.get(id),
      jobs: jobIds.length > 0 ? await deps.jobs.getMany(jobIds) : [],
    }));
  const jobIdsOf = (list: readonly number[]) => list.map((uid) => jobIdOf(requestId, uid));
  const carried = answers.filter((a) => uids.includes(a.uid));
  const unread = jobIdsOf(uids.filter((uid) => !carried.some((a) => a.uid === uid)));
  // Eventually consistent first (half the read units, issue 17): a terminal job is final (its first write wins), so
  // a read that finds every job of the notice terminal can be trusted with them; a stale request is harmless (its
  // capture and result write are first-wins and idempotent, a cancel that raced is finishCancel's case anyway). Only
  // a read that may have missed the notice's own answer is made again, strongly: dropping the notice on a stale
  // "pending" would leave the query to the sweeper.
  const cheap = await getWithJobs(requestId, unread, { eventually: true });
  const complete =
    cheap.record !== null &&
    cheap.record.phase !== "holding" &&
    (cheap.record.result !== undefined ||
      unread.every((id) => cheap.jobs.some((j) => j.jobId === id && TERMINAL_JOB_STATUSES.has(j.status))));
  const read = complete ? cheap : await getWithJobs(requestId, unread);
  const record = read.record;
  // Settled, or its jobs never sent: settling looks at no job.
  if (record === null || record.result !== undefined || record.phase === "holding") return read;
  // The carried answers, checked against the request as stored ones are; the job of one refused is read instead, with
  // those of the experts the notice did not name.
  const fromNotice = acceptedAnswers(deps, record, carried);
  const missed = record.experts
    .map((e) => e.uid)
    .filter(
      (uid) => !uids.includes(uid) || (carried.some((a) => a.uid === uid) && !fromNotice.some((j) => j.uid === uid)),
    );
  const more = missed.length > 0 ? await deps.jobs.getMany(jobIdsOf(missed)) : [];
  return { record, jobs: [...read.jobs, ...fromNotice, ...more] };
}

/** Notice answers' jobs as checked here (finalResult takes the check instead of making it again). */
const checkedFromNotice = new WeakMap<JobRecord, AnswerCheck>();

/**
 * The jobs of the notice's answers that check against the request (checkAnswer, as a stored answer is checked): a
 * refused one is logged and its job read from the table instead, so a forged or damaged notice costs a read, never
 * an answer.
 */
function acceptedAnswers(deps: SettleDeps, record: RequestRecord, carried: readonly NoticeAnswer[]): JobRecord[] {
  const accepted: JobRecord[] = [];
  for (const { uid, answer } of carried) {
    const expert = record.experts.find((e) => e.uid === uid);
    if (!expert || accepted.some((j) => j.uid === uid)) continue;
    const check = checkCarriedAnswer(answer, expert, record, deps.tasks, deps.verifier, deps.workerKeys);
    if (!check.ok) {
      deps.logger.warn("notice answer refused; its job is read instead", {
        requestId: record.requestId,
        uid,
        reason: check.reason,
      });
      continue;
    }
    checkedFromNotice.set(check.job, check);
    accepted.push(check.job);
  }
  return accepted;
}

async function settleView(
  deps: SettleDeps,
  requestId: string,
  uids: readonly number[] | undefined,
  answers: readonly NoticeAnswer[] | undefined,
  unstored: boolean,
): Promise<RequestView | null | typeof POSTPONED> {
  const read = await requestAndJobs(deps, requestId, uids, answers);
  const record = read.record;
  if (!record) return null;
  if (record.result) return { record, status: record.result.status };
  const now = deps.clock.now();
  // Unstored answers this notice carries and that checked: what their worker would have stored.
  const carried = unstored ? (read.jobs ?? []).filter((j) => checkedFromNotice.has(j)) : [];
  if (carried.length === 0) return settleRecord(deps, record, read.jobs, carried, now);
  try {
    return await settleRecord(deps, record, read.jobs, carried, now);
  } catch (error) {
    // This notice is their only copy and settling failed part way (perhaps after the capture): they are stored
    // before the notice goes back to the queue, so that whatever settles the query next (this notice again, a poll,
    // the sweeper, a cancel) has them, even should the notice end in the dead-letter queue.
    await storeCarried(deps, record, carried).catch((stored: unknown) =>
      deps.logger.error("unstored answers not stored either", { requestId, error: stored }),
    );
    throw error;
  }
}

/** settleView once the request is read: `jobs` as read with it (when they were), `carried` a notice's unstored ones. */
async function settleRecord(
  deps: SettleDeps,
  record: RequestRecord,
  readJobs: readonly JobRecord[] | undefined,
  carried: readonly JobRecord[],
  now: number,
): Promise<RequestView | typeof POSTPONED> {
  const requestId = record.requestId;
  if (record.phase === "canceling") return finishCancel(deps, record, carried);
  if (record.phase === "holding") {
    if (now <= record.deadline + HOLDING_GRACE_MS) return { record, status: "queued" };
    await deps.ledger.release(holdOf(record), now);
    return store(deps, record, emptyResult("expired", record, now));
  }
  const jobs = new Map(
    (readJobs ?? (await deps.jobs.getMany(record.experts.map((e) => jobIdOf(record.requestId, e.uid))))).map((j) => [
      j.jobId,
      j,
    ]),
  );
  const pastDeadline = now > record.deadline;
  let pending = 0;
  let started = false;
  const finished: JobRecord[] = [];
  for (const expert of record.experts) {
    const jobId = jobIdOf(record.requestId, expert.uid);
    let job = jobs.get(jobId);
    // A paid job has no record until its first terminal write: past the deadline, expiring it is that write.
    if (pastDeadline && (job === undefined || !TERMINAL_JOB_STATUSES.has(job.status))) {
      const t = await deps.jobs.expire(jobId, now, paidJobOf(record, expert.uid) ?? undefined);
      job = t.job ?? job;
    }
    if (!job) {
      if (!pastDeadline) pending++;
      continue;
    }
    if (TERMINAL_JOB_STATUSES.has(job.status)) {
      finished.push(job);
      started = true;
    } else {
      pending++;
      if (job.status === "running") started = true;
    }
  }
  if (pending > 0) {
    await storeCarried(deps, record, carried);
    return { record, status: started ? "running" : "queued" };
  }
  const result = await finalResult(deps, record, finished, now);
  if (result !== null && result !== CAPTURED_ELSEWHERE) return store(deps, record, result);
  if (result === CAPTURED_ELSEWHERE) {
    deps.logger.warn("hold captured by a settle with answers not stored; its result is left to it", { requestId });
  }
  // Not settled now: a notice is kept to come back (its answers stored, should it carry unstored ones).
  await storeCarried(deps, record, carried);
  return POSTPONED;
}

/**
 * Stores a notice's unstored answers when the query is not settled with them now (other jobs still open, settling
 * postponed): each is its job's first terminal write, as its worker's would have been, so a later settle (a notice,
 * the sweeper, a poll) finds it. One refused because the job was finished otherwise meanwhile is the job's end.
 */
async function storeCarried(deps: SettleDeps, record: RequestRecord, carried: readonly JobRecord[]): Promise<void> {
  const entries = carried.flatMap((job) => {
    const base = paidJobOf(record, job.uid);
    return job.answer && base ? [{ jobId: job.jobId, answer: job.answer, at: deps.clock.now(), base }] : [];
  });
  if (entries.length === 0) return;
  const outcomes = await deps.jobs.completeMany(entries);
  const failed = outcomes.find((o) => o.status === "rejected");
  // Not known stored: the notice stays (the settler retries it) rather than lose its only copy.
  if (failed) throw failed.reason;
}

/**
 * A capture is on the hold, made with answers this settle does not have (an unstored notice's): leave it alone,
 * until ORPHAN_CAPTURE_AFTER_MS past the deadline.
 */
const CAPTURED_ELSEWHERE = Symbol("captured elsewhere");

/**
 * How long past its deadline a query charged for answers no settle here has is left to the settle that has them:
 * a carrying notice comes back within the settle queue's redeliveries (5 receives, 30 s apart) or lands in its
 * dead-letter queue. Past this, the query is settled with what is in (the charge stands; the alarm on that queue
 * tells the operator), so that it never stays open.
 */
const ORPHAN_CAPTURE_AFTER_MS = 5 * 60_000;

/**
 * null: the answers are in but the fee split cannot be known yet (directory down); nothing was charged.
 * CAPTURED_ELSEWHERE: the hold is captured for answers this settle does not have (see there).
 */
async function finalResult(
  deps: SettleDeps,
  record: RequestRecord,
  jobs: readonly JobRecord[],
  now: number,
): Promise<RequestResult | null | typeof CAPTURED_ELSEWHERE> {
  const accepted: { expert: RequestRecord["experts"][number]; output: unknown; job: JobRecord }[] = [];
  const failedUids: number[] = [];
  for (const expert of record.experts) {
    const job = jobs.find((j) => j.uid === expert.uid);
    const check = job
      ? (checkedFromNotice.get(job) ?? checkAnswer(job, expert, record, deps.tasks, deps.verifier, deps.workerKeys))
      : { ok: false as const, reason: "no_job" };
    if (check.ok) accepted.push({ expert, output: check.output, job: check.job });
    else {
      failedUids.push(expert.uid);
      if (job?.status === "succeeded")
        deps.logger.warn("answer rejected", { requestId: record.requestId, uid: expert.uid, reason: check.reason });
    }
  }
  if (accepted.length === 0) {
    const released = await deps.ledger.release(holdOf(record), now);
    // A settler captured with answers it carried and has not stored (core/jobs/settle-notice.ts `unstored`): its
    // result, with those answers, is on its way; one stored here without them would charge for nothing.
    const capture = released.ok ? undefined : released.hold;
    if (capture?.status === "captured" || capture?.status === "capturing") {
      if (now <= record.deadline + ORPHAN_CAPTURE_AFTER_MS) return CAPTURED_ELSEWHERE;
      deps.logger.error("charged with no answer in: settled as failed with its charge", {
        requestId: record.requestId,
      });
      return { ...emptyResult("failed", record, now), failedUids, cost: capture.captureAmount ?? 0 };
    }
    const allExpired = jobs.length === 0 || jobs.every((j) => j.status === "expired");
    return { ...emptyResult(allExpired ? "expired" : "failed", record, now), failedUids };
  }
  const gates = renormalise(accepted.map((a) => a.expert.gate));
  let output: unknown;
  try {
    output = deps.tasks.combine(
      record.task,
      accepted.map((a) => a.output),
      gates,
    );
  } catch (error) {
    deps.logger.error("combine failed", { requestId: record.requestId, error });
    await deps.ledger.release(holdOf(record), now);
    return { ...emptyResult("failed", record, now), failedUids: record.experts.map((e) => e.uid) };
  }
  // The weights that split the fee are read before charging: a directory (chain) outage must leave the client
  // uncharged and the request open for a later settle, not charged with no result stored.
  let weights: Map<string, DirectoryExpert>;
  try {
    weights = new Map((await deps.directory.experts(record.task)).map((e) => [e.hotkey, e]));
  } catch (error) {
    deps.logger.error("directory unavailable; settle postponed", { requestId: record.requestId, error });
    return null;
  }
  const cost = captureAmount(record.pricePerAnswer, accepted.length, record.holdAmount);
  // The fee split goes with the capture (one ledger write; the ledger keeps the first capture's split, so a
  // replayed settle shares nothing twice even if the weights moved in between).
  const split = {
    task: record.task,
    shares: feeShares(
      deps,
      accepted.map((a) => a.expert),
      weights,
      cost,
    ),
  };
  let captured = await deps.ledger.capture(holdOf(record), cost, now, split);
  if (!captured.ok && captured.reason === "invalid") {
    // Never expected (splitCost gives out exactly the cost): charge anyway rather than give the answer away.
    deps.logger.error("fee shares refused", { requestId: record.requestId, reason: captured.reason });
    captured = await deps.ledger.capture(holdOf(record), cost, now);
  }
  if (!captured.ok) {
    // The hold was released meanwhile (the sweeper, after its deadline): nothing can be charged, so give nothing.
    deps.logger.warn("capture refused", { requestId: record.requestId, reason: captured.reason });
    return { ...emptyResult("expired", record, now), failedUids };
  }
  const charged = captured.hold.captureAmount ?? cost;
  // Captured before, for another number of answers: by a settle whose answers were not stored (a notice's unstored
  // ones, core/jobs/settle-notice.ts), while a redelivered job's answer was stored since. That settle's result (or
  // its notice again) holds what was charged; this one would charge for answers it does not hold.
  if (charged !== cost) {
    if (now <= record.deadline + ORPHAN_CAPTURE_AFTER_MS) return CAPTURED_ELSEWHERE;
    deps.logger.error("charged for other answers than are in: settled with them and its charge", {
      requestId: record.requestId,
      charged,
      cost,
    });
  }
  const experts = accepted.map((a, i) => ({
    uid: a.expert.uid,
    hotkey: a.expert.hotkey,
    gate: gates[i] ?? 0,
    signature: a.job.answer?.signature.signature ?? "",
    signedBody: a.job.answer?.body ?? "",
    signatureTimestamp: a.job.answer?.signature.timestamp ?? "",
    signatureUuid: a.job.answer?.signature.uuid ?? "",
    // A client verifying the answer itself needs the key and the address it signed for (RECEIPTS.md).
    signedBy: a.job.answer?.signature.signedBy ?? "",
    signedFor: a.job.answer?.signature.signedFor ?? "",
    // checkAnswer accepted it, so it has its batch proof (issue 17).
    ...(a.job.answer?.proof ? { answerProof: a.job.answer.proof } : {}),
  }));
  const receipt = signReceipt(deps.gatewaySigner, {
    v: 2,
    requestId: record.requestId,
    keyId: record.keyId,
    task: record.task,
    experts: experts.map((e) => ({ uid: e.uid, hotkey: e.hotkey, gate: e.gate })),
    cost: charged,
    // Accepted answers all signed this digest (checkAnswer), so the receipt binds the input they ran.
    inputSha256: record.inputDigest ?? "",
    outputSha256: outputDigest(output),
    time: now,
  });
  return { status: "succeeded", output, experts, failedUids, cost: charged, receipt, settledAt: now };
}

/**
 * Shares the fee: the platform's cut, the rest to the experts that answered in proportion to their current weights
 * (the directory's, at settle time).
 */
function feeShares(
  deps: SettleDeps,
  answered: readonly RequestRecord["experts"][number][],
  weights: ReadonlyMap<string, DirectoryExpert>,
  charged: number,
): ShareCredit[] {
  const split = splitCost(
    charged,
    deps.config.platformCutBps,
    answered.map((e) => {
      // Keyed by hotkey: a uid re-registered since routing belongs to someone else, whose weight is not this one's.
      const current = weights.get(e.hotkey);
      return { uid: e.uid, weight: current && current.uid === e.uid ? current.weight : 0 };
    }),
  );
  const byHotkey = new Map<string, ShareCredit>();
  split.experts.forEach((share, i) => {
    const hotkey = answered[i]?.hotkey;
    if (hotkey === undefined || share.amount === 0) return;
    const seen = byHotkey.get(hotkey);
    byHotkey.set(hotkey, { payee: hotkey, amount: (seen?.amount ?? 0) + share.amount, uid: share.uid });
  });
  const shares = [...byHotkey.values()];
  if (split.platform > 0) shares.push({ payee: PLATFORM_PAYEE, amount: split.platform });
  return shares;
}

/** The request's hold: its account and amount let the ledger settle it in one write. */
function holdOf(record: RequestRecord): HoldRef {
  return { accountId: record.accountId, holdId: record.requestId, amount: record.holdAmount };
}

function emptyResult(status: RequestResult["status"], record: RequestRecord, now: number): RequestResult {
  return { status, experts: [], failedUids: record.experts.map((e) => e.uid), cost: 0, settledAt: now };
}

async function store(deps: SettleDeps, record: RequestRecord, result: RequestResult): Promise<RequestView> {
  const stored = (await deps.requests.settle(record.requestId, result)) ?? { ...record, result };
  await afterSettle(deps, stored);
  return { record: stored, status: stored.result?.status ?? result.status };
}

/**
 * Cancels every job still open, then settles on what is left: with no answer in, the whole hold is released and the
 * request recorded as canceled; an answer that was already in is charged (only the answered part: the rest of the
 * hold is released), since its work was done before the cancel. A job canceled here can no longer be answered: its
 * worker's first-write-wins completion is refused. Idempotent. `carried`: a notice's unstored answers (checked),
 * which count only when the hold is already captured: a settler took them before the cancel, so the charge stands
 * and so do they (their jobs' slots were canceled here only because nobody had written them).
 */
export async function finishCancel(
  deps: SettleDeps,
  record: RequestRecord,
  carried: readonly JobRecord[] = [],
): Promise<RequestView> {
  const now = deps.clock.now();
  // Each cancel is its job's first terminal write when the job has no record yet (paid jobs: core/ports/jobs.ts).
  const cancel = (uid: number) =>
    deps.jobs.cancel(jobIdOf(record.requestId, uid), now, paidJobOf(record, uid) ?? undefined);
  for (const expert of record.experts) await cancel(expert.uid);
  // The shadow lane's jobs are nobody's charge: canceled too, so no worker runs them for a canceled query.
  for (const expert of record.shadow ?? []) await cancel(expert.uid);
  const jobs = await deps.jobs.getMany(record.experts.map((e) => jobIdOf(record.requestId, e.uid)));
  // With the hold captured: the stored answers, and for the others the carried ones.
  const answeredBefore = () =>
    record.experts.flatMap((e) => {
      const stored = jobs.find((j) => j.uid === e.uid);
      const job = stored?.status === "succeeded" ? stored : (carried.find((c) => c.uid === e.uid) ?? stored);
      return job ? [job] : [];
    });
  const running = { record, status: "running" as const };
  const hold = await deps.ledger.getHold(holdOf(record));
  const captured = hold?.status === "captured" || hold?.status === "capturing";
  if (captured || jobs.some((j) => j.status === "succeeded")) {
    // Either a settler captured just before the cancel (the charge stands, so its answer does: recomputed
    // identically from the final jobs and the answers it carried), or answers are in: charged like any settle, never
    // given away.
    const result = await finalResult(deps, record, captured ? answeredBefore() : jobs, now);
    if (result === CAPTURED_ELSEWHERE || result === null) return running;
    if (result.status === "succeeded" || captured) return store(deps, record, result);
    return store(deps, record, { ...result, status: "canceled" });
  }
  const released = await deps.ledger.release(holdOf(record), now);
  if (!released.ok && (released.hold?.status === "captured" || released.hold?.status === "capturing")) {
    const result = await finalResult(deps, record, answeredBefore(), now);
    return result === CAPTURED_ELSEWHERE || result === null ? running : store(deps, record, result);
  }
  return store(deps, record, emptyResult("canceled", record, now));
}
