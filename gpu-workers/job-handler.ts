import { nodeBytes } from "../adapters/bytes/node-bytes.ts";
import type { Logger } from "../adapters/log/logger.ts";
import type { Clock } from "../core/batching/clock.ts";
import { ItemExpiredError } from "../core/batching/errors.ts";
import { verifyEpistula } from "../core/epistula/epistula.ts";
import { answerBodyText, claimOf, recordMismatch, requestSignedText } from "../core/jobs/integrity.ts";
import { decodeJobInput } from "../core/jobs/job-input.ts";
import { answerBodyBudget, paidJobOf } from "../core/jobs/paid-job.ts";
import { type ExpertAnswer, JobMessage, type JobRecord, TERMINAL_JOB_STATUSES } from "../core/jobs/schema.ts";
import type { NoticeAnswer } from "../core/jobs/settle-notice.ts";
import type { CompleteEntry, JobStore, Transition } from "../core/ports/jobs.ts";
import type { JobQueue, ReceivedMessage } from "../core/ports/queue.ts";
import type { SignatureVerifier } from "../core/ports/signer.ts";
import type { AnswerSigner } from "./answer-signer.ts";
import type { WorkerConfig } from "./config.ts";
import {
  AnswersNotStoredError,
  describe,
  ExpertNotServedError,
  ModelRunError,
  retryableCode,
  UnrecoverableJobError,
} from "./errors.ts";
import type { ExpertPool, ServedExpert } from "./expert-pool.ts";
import { inputProblem } from "./input-shape.ts";
import type { JobReader } from "./job-reader.ts";
import type { WorkerMetrics } from "./metrics.ts";
import type { RequestReader } from "./request-reader.ts";
import type { SignedQueries } from "./signed-queries.ts";

export type JobOutcome = "succeeded" | "duplicate" | "expired" | "dead_lettered" | "dropped" | "retry";

/** Tells the settler that a paid request may be finished (a small message on the settle queue). */
export interface SettleNotifier {
  /**
   * `uids`: the request's experts as its record names them (the settler reads their jobs with the request);
   * `entered`: by a job that `enter`ed the request here; `answer`: the answer this job's own terminal write stored
   * (the notice carries it, so the settler need not read it back).
   */
  notify(
    requestId: string,
    uids?: readonly number[],
    options?: { readonly entered?: boolean; readonly answer?: NoticeAnswer },
  ): Promise<void>;
  /**
   * A routed job of the request starts running here / is done here (settle-notices.ts: the request's jobs in flight
   * here send one notice, when the last of them is done).
   */
  enter?(requestId: string): void;
  leave?(requestId: string): void;
  /**
   * Stores a paid job's answer (`entered`: a routed job entered here), with the answers of its request's other jobs
   * here when they are ready too: one write for them all (settle-notices.ts). Absent: each is stored alone.
   */
  answer?(
    requestId: string,
    write: CompleteEntry,
    options?: { readonly entered?: boolean; readonly uids?: readonly number[] },
  ): Promise<Transition>;
}

export interface JobContext {
  readonly config: Pick<
    WorkerConfig,
    | "workerId"
    | "maxReceives"
    | "retryDelaySeconds"
    | "maxRetryDelaySeconds"
    | "requestMaxAgeMs"
    | "trustedSenders"
    | "gatewayAddress"
  >;
  readonly queue: JobQueue;
  readonly jobs: JobStore;
  /**
   * Paid jobs' requests (a RequestReader: one read per receive): a paid job is checked against its request record
   * and has no item of its own until its answer (core/ports/jobs.ts). Absent, or no request record for a job: the
   * job's own item vouches for it, as for validation jobs.
   */
  readonly requests?: Pick<RequestReader, "get">;
  /**
   * Paid queries' facts their gateway signed in the messages (issue 17): a first delivery that carries them is checked
   * against them instead of its request record (no read). Absent (no gateway address configured): records only.
   */
  readonly signedQueries?: Pick<SignedQueries, "check">;
  /**
   * Validation jobs' records (a JobReader: one read per receive): a validation job is checked against its record by
   * reading it, not by a claim write (its first write is its answer). Absent: the claim write, as for a paid job that
   * has its own item.
   */
  readonly jobReader?: Pick<JobReader, "get">;
  /** Absent: nothing is told (tests of the worker alone); settling then waits for a poll or the sweeper. */
  readonly settle?: SettleNotifier;
  readonly pool: ExpertPool;
  /**
   * The worker's own key, through one signature per batch of answers (issue 17): the miners' hotkey secrets stay
   * with the miners.
   */
  readonly answerSigner: Pick<AnswerSigner, "sign">;
  readonly verifier: SignatureVerifier;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /**
   * Takes work the handler does not wait for (a message's delete, which may wait for a batch: adapters/queue/sqs.ts
   * `deleteWindowMs`), so that the message's slot is free for the next one meanwhile; the worker's stop waits for it.
   */
  readonly background: (work: Promise<void>) => void;
  /** Monotonic time of the batchers. */
  readonly clock: Clock;
  /** Wall time (ms since epoch): deadlines, timestamps. */
  readonly now: () => number;
}

/** A message that names a job it cannot vouch for: deleted, logged and counted, and its job left untouched. */
class ForgedMessage extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * One delivery, start to finish (STYLE practice 10): parse -> request signature (required on validation jobs) ->
 * expert served here (else only checked against its record, and retried later) ->
 * check against the job record (it exists, names this request, kind, task and expert, and its input digest is the
 * message input's; a finished job is acknowledged without running the model again): a paid job's against its
 * request record and a validation job's against its own, each read in one batch per receive; other jobs' by marking
 * them running in one conditional write -> expert's task -> input shape -> deadline (the record's) -> batch ->
 * sign {jobId, uid, hotkey, modelSha256, inputDigest, output} with the serving key (one Merkle root signature for the
 * answers finished together, each answer with its proof) ->
 * conditional complete (first write wins) -> settle notice (paid) -> delete, and only then.
 * A message that fails the record or signature check is dropped without touching any job: only the job's creator
 * can make a message that reaches it. Unrecoverable problems of a verified job go to the dead-letter queue at once
 * (the job failed); anything else leaves the message to come back after a backed-off visibility.
 */
export async function handleMessage(message: ReceivedMessage, ctx: JobContext): Promise<JobOutcome> {
  const startedAt = ctx.now();
  ctx.metrics.inc("received");
  ctx.metrics.queueWaitMs.add(Math.max(0, startedAt - message.sentAt));
  const state: JobState = {};
  try {
    const outcome = await processJob(message, ctx, state);
    ctx.metrics.jobMs.add(ctx.now() - startedAt);
    return outcome;
  } catch (error) {
    if (error instanceof ForgedMessage) return drop(message, ctx, error.reason);
    if (error instanceof UnrecoverableJobError) {
      return deadLetter(message, ctx, state, error.code, error.message, false);
    }
    return retryLater(message, ctx, state, error);
  } finally {
    if (state.entered !== undefined) ctx.settle?.leave?.(state.entered);
  }
}

async function processJob(message: ReceivedMessage, ctx: JobContext, state: JobState): Promise<JobOutcome> {
  const job = parseMessage(message.body);
  const { input, digest } = decodedInput(job);
  verifyRequest(job, digest, ctx);
  const paid = await paidJob(job, digest, message, ctx, state);
  if (paid === "duplicate") return duplicate(message, ctx, state);
  const expert = ctx.pool.byHotkey(job.hotkey);
  // Not unrecoverable: a newly added expert reaches the queue before this worker's next manifest reload, or
  // another worker serves it. The message returns after a short backoff; past maxReceives it is dead-lettered. Its
  // job is only read (is the message its creator's?), not marked: this worker does not run it.
  if (expert === undefined) {
    if (paid === null) vouched(job, await ctx.jobs.get(job.jobId), digest, state);
    throw new ExpertNotServedError(job.hotkey);
  }
  const record = paid ?? (await validationJob(job, digest, ctx, state)) ?? (await claimJob(job, digest, ctx, state));
  if (record === "duplicate") return duplicate(message, ctx, state);
  if (expert.manifest.task !== job.task) {
    throw new UnrecoverableJobError("task_mismatch", `expert ${expert.manifest.id} serves ${expert.manifest.task}`);
  }
  const problem = inputProblem(expert.manifest, input);
  if (problem !== null) throw new UnrecoverableJobError("bad_input", problem);
  // The record's deadline, not the message's: a message cannot extend the life of a job.
  if (ctx.now() > record.deadline) return expire(message, ctx, state);

  const ran = await runOnExpert(expert, input, record.deadline, ctx);
  if (ran === "expired") return expire(message, ctx, state);
  const body = answerBodyText({
    jobId: job.jobId,
    uid: job.uid,
    hotkey: job.hotkey,
    modelSha256: expert.manifest.model.sha256,
    inputDigest: digest,
    output: ran.output,
  });
  // A paid request's answers share one item (core/jobs/paid-job.ts): one too large fails its own job, not theirs.
  const bodyBytes = state.answerBudget === undefined ? 0 : Buffer.byteLength(body, "utf8");
  if (state.answerBudget !== undefined && bodyBytes > state.answerBudget) {
    throw new UnrecoverableJobError("answer_too_large", `answer of ${bodyBytes} bytes over ${state.answerBudget}`);
  }
  // Addressed to whoever signed the request (the validator, or the gateway), so only it takes the answer as its own.
  const signed = await ctx.answerSigner.sign(body, job.request?.signedBy ?? ctx.config.gatewayAddress);
  const answer: ExpertAnswer = {
    body,
    output: ran.output,
    signature: signed.signature,
    proof: signed.proof,
    modelSha256: expert.manifest.model.sha256,
    inferenceMs: ran.runMs,
    batchSize: ran.batchSize,
    workerId: ctx.config.workerId,
  };
  const stored = await storeAnswer(ctx, state, { jobId: job.jobId, answer, at: ctx.now(), ...baseOf(state) });
  // Only an answer this write stored goes with the notice: a refused write means another delivery's answer is the
  // job's, and the settler reads that one. (Or one the notice carries unstored: it throws when it could do neither.)
  await notifySettle(ctx, state, stored.ok ? { uid: job.uid, answer } : undefined);
  if (stored.ok) ctx.metrics.answered({ expert: expert.manifest.id, task: expert.manifest.task });
  else ctx.metrics.inc("duplicatesSkipped");
  // Only now that the result is durable (written, or carried by a notice the settle queue took) may the message go.
  acknowledge(message, ctx);
  return stored.ok ? "succeeded" : "duplicate";
}

/** A paid job's answer goes with its request's others here (one write); any other job's alone. */
function storeAnswer(ctx: JobContext, state: JobState, write: CompleteEntry): Promise<Transition> {
  if (state.requestId !== undefined && ctx.settle?.answer !== undefined) {
    const uids = state.uids === undefined ? {} : { uids: state.uids };
    return ctx.settle.answer(state.requestId, write, { entered: state.entered !== undefined, ...uids });
  }
  return ctx.jobs.complete(write.jobId, write.answer, write.at, write.base);
}

const baseOf = (state: JobState) => (state.base === undefined ? {} : { base: state.base });

interface JobState {
  /** Set once the message is verified against its record: only then may a failure touch the job. */
  jobId?: string;
  /** A paid job with no item yet: its record as its request implies it, for the terminal write that creates it. */
  base?: JobRecord;
  /** A paid job's longest answer body, in bytes (its share of its request's jobs item). */
  answerBudget?: number;
  /** The paid request to tell the settler about after a terminal write. */
  requestId?: string;
  /** Its experts' uids as its record names them: the settler reads their jobs along with the request. */
  uids?: number[];
  /** The request this routed job was entered under with the settle notifier (left when the message is done). */
  entered?: string;
}

/** Malformed text names no job anyone can trust: it goes to the dead-letter queue, and no job is touched. */
function parseMessage(body: string): JobMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new UnrecoverableJobError("bad_message", "body is not JSON");
  }
  const parsed = JobMessage.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new UnrecoverableJobError("bad_message", issues.join("; "));
}

/**
 * The message's input as the runner takes it (a tensor as a Float32Array of exactly the bytes digested) and its
 * digest: an input that does not decode names no job anyone created.
 */
function decodedInput(job: JobMessage): { input: unknown; digest: string } {
  try {
    return decodeJobInput(job, nodeBytes);
  } catch {
    throw new ForgedMessage("input_not_decodable");
  }
}

/**
 * The job record must vouch for the message (same request, kind, task, expert, and the input's digest): one
 * conditional write checks that and marks the job running (issue 17: no read per job before it). Refused, the
 * record as it is tells a forged message (no job touched) from a finished job (a redelivery: "duplicate").
 */
async function claimJob(
  job: JobMessage,
  digest: string,
  ctx: JobContext,
  state: JobState,
): Promise<JobRecord | "duplicate"> {
  const running = await ctx.jobs.markRunning(job.jobId, ctx.config.workerId, ctx.now(), claimOf(job, digest));
  const record = vouched(job, running.job, digest, state);
  if (running.ok) return record;
  if (!TERMINAL_JOB_STATUSES.has(record.status)) throw new Error(`markRunning refused a ${record.status} job`);
  return "duplicate";
}

/**
 * A validation job checked against its record as read (batched per receive), with no write before its answer: the
 * record, or "duplicate" when the job is already finished. Its status stays `queued` while it runs; the answer (or a
 * failure, or an expiry) is its first write, conditional as every terminal write. Two deliveries running at once both
 * run the model and the first terminal write wins, as with a claim (which let a running job be claimed again).
 * null: not a validation job, or no reader (the claim write then checks it).
 */
async function validationJob(
  job: JobMessage,
  digest: string,
  ctx: JobContext,
  state: JobState,
): Promise<JobRecord | "duplicate" | null> {
  if (job.kind !== "validation" || ctx.jobReader === undefined) return null;
  const record = vouched(job, await ctx.jobReader.get(job.jobId), digest, state);
  return TERMINAL_JOB_STATUSES.has(record.status) ? "duplicate" : record;
}

/**
 * A paid job checked against its request record (one batched read per receive; no write before the answer):
 * the record as its request implies it, "duplicate" when its query is over (settled, canceling) or, on a
 * redelivery, the job already finished; null when there is no request record to check against (the job's own
 * item then vouches for it).
 */
async function paidJob(
  job: JobMessage,
  digest: string,
  message: ReceivedMessage,
  ctx: JobContext,
  state: JobState,
): Promise<JobRecord | "duplicate" | null> {
  if (job.kind !== "paid" || ctx.requests === undefined) return null;
  // A first delivery is checked against the facts its gateway signed when it carries them: no read (issue 17). A
  // redelivery reads the record, to learn whether its query is over (settled, canceled) before running it again, and
  // so does a delivery past its deadline: its query is most likely settled, and its expiry is then not written.
  const fresh = message.receiveCount <= 1 && ctx.now() <= job.deadline;
  const signed = fresh ? ctx.signedQueries?.check(job, digest) : undefined;
  // Another signer, another message's facts, or a bad signature is counted (a stale one has only waited long), and
  // the job checked against the record, which a forged message does not pass either.
  if (signed?.ok === false && signed.reason !== "absent" && signed.reason !== "stale") ctx.metrics.inc("badSignatures");
  const record = signed?.ok ? null : await ctx.requests.get(job.requestId);
  const request = signed?.ok ? signed.facts : record;
  const implied = request && paidJobOf(request, job.uid);
  if (!request || !implied) return null;
  vouched(job, implied, digest, state);
  // Messages go out only once the phase is `dispatched`; `canceling` and a stored result end every routed job of
  // it. A newcomer's shadow job outlives its query's result (the settler records its answer on its notice,
  // settler.ts): only a cancel ends it. Signed facts say nothing of the query's state: a first delivery of a query
  // canceled meanwhile runs, and the settler refuses its answers.
  const shadow = !request.experts.some((e) => e.uid === job.uid);
  // The settler reads the named jobs with the request. A shadow job's notice names none: its query is usually
  // settled by then, and the settler then needs the request alone.
  if (!shadow) state.uids = request.experts.map((e) => e.uid);
  const over =
    record !== null &&
    (shadow
      ? record.phase === "canceling" || record.result?.status === "canceled"
      : record.phase !== "dispatched" || record.result !== undefined);
  if (over) return "duplicate";
  // A first delivery cannot have finished before; a redelivery may have (its delete lost, or a slow first run).
  if (message.receiveCount > 1) {
    const own = await ctx.jobs.get(job.jobId);
    if (own !== null && TERMINAL_JOB_STATUSES.has(own.status)) return "duplicate";
  }
  const now = ctx.now();
  // `attempts` counts the starts the record saw: this one (earlier deliveries that ended without a write left none).
  state.base = { ...implied, attempts: 1, startedAt: now, workerId: ctx.config.workerId };
  state.answerBudget = answerBodyBudget(request);
  // A routed job joins its request's notice here. A shadow job (not part of the query's result) is not entered: its
  // notice joins routed jobs still running here, but they never wait for it (a slow newcomer must not hold up the
  // query's settlement).
  if (!shadow && ctx.settle?.enter) {
    ctx.settle.enter(job.requestId);
    state.entered = job.requestId;
  }
  return state.base;
}

async function duplicate(message: ReceivedMessage, ctx: JobContext, state: JobState): Promise<JobOutcome> {
  ctx.metrics.inc("duplicatesSkipped");
  // The first delivery may have stopped between its result write and its notice: telling again costs nothing.
  await notifySettle(ctx, state);
  acknowledge(message, ctx);
  return "duplicate";
}

/** The record, when it vouches for the message; else the message is forged (and no job is touched). */
function vouched(job: JobMessage, record: JobRecord | null, digest: string, state: JobState): JobRecord {
  const mismatch = recordMismatch(record, job, digest);
  if (mismatch !== null || record === null) throw new ForgedMessage(mismatch ?? "unknown_job");
  // From here the message is the creator's: failures may touch its job, and the settler is told of terminal writes.
  state.jobId = job.jobId;
  if (job.kind === "paid") state.requestId = job.requestId;
  return record;
}

/**
 * The sender's Epistula signature: required on validation jobs (the validator signs every one), checked on paid
 * jobs when present. The signer must be a trusted sender; with none configured, no validation job runs. Bound to
 * this expert's hotkey or to no one. Freshness uses the wide `requestMaxAgeMs`, since queue time counts (config.ts).
 */
function verifyRequest(job: JobMessage, inputDigest: string, ctx: JobContext): void {
  const sig = job.request;
  if (sig === undefined) {
    if (job.kind === "paid") return;
    ctx.metrics.inc("badSignatures");
    throw new ForgedMessage("unsigned_validation_job");
  }
  const body = requestSignedText({ jobId: job.jobId, task: job.task, uid: job.uid, inputDigest });
  const result = verifyEpistula(ctx.verifier, body, sig, {
    now: ctx.now(),
    maxAgeMs: ctx.config.requestMaxAgeMs,
    ...(sig.signedFor === "" ? {} : { signedFor: job.hotkey }),
  });
  const senders = ctx.config.trustedSenders;
  const trusted = senders.includes(sig.signedBy) || (senders.length === 0 && job.kind === "paid");
  if (result.ok && trusted) return;
  ctx.metrics.inc("badSignatures");
  throw new ForgedMessage(`bad_request_signature: ${result.ok ? "untrusted_sender" : result.reason}`);
}

interface Ran {
  readonly output: unknown;
  readonly runMs: number;
  readonly batchSize: number;
}

/**
 * Through the expert's batcher. When a batch fails, the item is re-run alone once: a poison input then fails only
 * its own job, and the others of its batch still answer on this delivery.
 */
async function runOnExpert(
  expert: ServedExpert,
  input: unknown,
  deadline: number,
  ctx: JobContext,
): Promise<Ran | "expired"> {
  const expiresAt = ctx.clock.now() + (deadline - ctx.now());
  try {
    const result = await expert.batcher.submit(input, { expiresAt });
    ctx.metrics.batchWaitMs.add(result.queueMs);
    return result;
  } catch (error) {
    if (error instanceof ItemExpiredError) return "expired";
    if (!(error instanceof ModelRunError) || error.batchSize <= 1) throw error;
  }
  ctx.metrics.inc("soloRetries");
  const started = ctx.clock.now();
  try {
    const outputs = await expert.model.runBatch([input]);
    const runMs = ctx.clock.now() - started;
    ctx.metrics.batch(1, runMs, { expert: expert.manifest.id, task: expert.manifest.task });
    if (outputs.length !== 1) throw new Error(`model returned ${outputs.length} outputs for 1 input`);
    return { output: outputs[0], runMs, batchSize: 1 };
  } catch (error) {
    throw new ModelRunError(error, 1);
  }
}

async function expire(message: ReceivedMessage, ctx: JobContext, state: JobState): Promise<JobOutcome> {
  if (state.jobId !== undefined) await ctx.jobs.expire(state.jobId, ctx.now(), state.base);
  ctx.metrics.inc("expired");
  await notifySettle(ctx, state);
  acknowledge(message, ctx);
  return "expired";
}

/** Deleted without touching any job (the job's own message, if any, still comes); logged and counted. */
async function drop(message: ReceivedMessage, ctx: JobContext, reason: string): Promise<JobOutcome> {
  ctx.metrics.inc("dropped");
  ctx.metrics.error(reason.split(":")[0] ?? reason);
  ctx.logger.warn("message dropped: its job record does not vouch for it", { messageId: message.messageId, reason });
  acknowledge(message, ctx);
  return "dropped";
}

/**
 * After a terminal write of a paid job: the settler captures the request once its last job is in. A failed notice
 * is not a failed job: the sweeper settles a request whose answers are in before it would release its hold.
 */
async function notifySettle(ctx: JobContext, state: JobState, answer?: NoticeAnswer): Promise<void> {
  if (state.requestId === undefined || ctx.settle === undefined) return;
  try {
    await ctx.settle.notify(state.requestId, state.uids, {
      entered: state.entered !== undefined,
      ...(answer ? { answer } : {}),
    });
  } catch (error) {
    // This job's answer was for the notice to carry, and could not be written instead: the job runs again. (A job
    // without an answer here, such as one dead-lettered, only joined the notice: its siblings fail on their own.)
    if (error instanceof AnswersNotStoredError && answer !== undefined) throw error;
    ctx.metrics.error("settle_notify_failed");
    ctx.logger.warn("settle notice failed; the sweeper will settle", { requestId: state.requestId, error });
  }
}

/**
 * Deletes the message in the background (not awaited: a delete may wait for a batch, and the job is done). A failed
 * delete is not a failed job: the redelivery will find the job finished and skip it (or, for answers a notice carried
 * unstored, the request settled; before that it runs again, and the settler's first result wins).
 */
function acknowledge(message: ReceivedMessage, ctx: JobContext): void {
  ctx.background(
    ctx.queue.delete(message.receipt).catch((error: unknown) => {
      ctx.metrics.error("delete_failed");
      ctx.logger.warn("delete failed; the redelivery will be skipped as a duplicate", {
        messageId: message.messageId,
        error,
      });
    }),
  );
}

async function deadLetter(
  message: ReceivedMessage,
  ctx: JobContext,
  state: JobState,
  code: string,
  detail: string,
  retryable: boolean,
): Promise<JobOutcome> {
  const reason = `${code}: ${detail}`;
  const jobId = state.jobId;
  try {
    // Failed first, then moved: if the move fails the message stays and the next delivery tries again.
    if (jobId !== undefined) await ctx.jobs.fail(jobId, { code, message: detail, retryable }, ctx.now(), state.base);
    await ctx.queue.deadLetter(message, reason);
  } catch (error) {
    ctx.metrics.error("dead_letter_failed");
    ctx.logger.error("could not dead-letter a message; it will be redelivered", {
      messageId: message.messageId,
      error,
    });
    return "retry";
  }
  ctx.metrics.inc("deadLettered");
  if (jobId !== undefined) ctx.metrics.inc("failed");
  if (jobId !== undefined) await notifySettle(ctx, state);
  ctx.metrics.error(code);
  ctx.logger.warn("message dead-lettered", { messageId: message.messageId, jobId, reason });
  return "dead_lettered";
}

async function retryLater(
  message: ReceivedMessage,
  ctx: JobContext,
  state: JobState,
  error: unknown,
): Promise<JobOutcome> {
  const jobId = state.jobId;
  const code = retryableCode(error);
  if (message.receiveCount >= ctx.config.maxReceives) {
    // Last delivery the queue allows: move it ourselves so the reason travels with it (a redrive would drop it).
    return deadLetter(
      message,
      ctx,
      state,
      "retries_exhausted",
      `${message.receiveCount} deliveries; last: ${describe(error)}`,
      true,
    );
  }
  ctx.metrics.inc("retried");
  ctx.metrics.error(code);
  ctx.logger.warn("job will be retried", {
    messageId: message.messageId,
    jobId,
    receiveCount: message.receiveCount,
    error,
  });
  const delay = Math.min(
    ctx.config.maxRetryDelaySeconds,
    ctx.config.retryDelaySeconds * 2 ** (message.receiveCount - 1),
  );
  try {
    await ctx.queue.extendVisibility(message.receipt, delay);
  } catch {
    // The message then returns after its full visibility timeout instead; nothing is lost.
  }
  return "retry";
}
