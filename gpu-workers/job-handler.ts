import { z } from "zod";
import type { Logger } from "../adapters/log/logger.ts";
import type { Clock } from "../core/batching/clock.ts";
import { ItemExpiredError } from "../core/batching/errors.ts";
import { signEpistula, verifyEpistula } from "../core/epistula/epistula.ts";
import { type ExpertAnswer, JobMessage, TERMINAL_JOB_STATUSES } from "../core/jobs/schema.ts";
import type { JobStore } from "../core/ports/jobs.ts";
import type { JobQueue, ReceivedMessage } from "../core/ports/queue.ts";
import type { SignatureVerifier } from "../core/ports/signer.ts";
import type { WorkerConfig } from "./config.ts";
import { describe, ExpertNotServedError, ModelRunError, retryableCode, UnrecoverableJobError } from "./errors.ts";
import type { ExpertPool, ServedExpert } from "./expert-pool.ts";
import { inputProblem } from "./input-shape.ts";
import type { WorkerMetrics } from "./metrics.ts";

export type JobOutcome = "succeeded" | "duplicate" | "expired" | "dead_lettered" | "retry";

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
  readonly pool: ExpertPool;
  readonly verifier: SignatureVerifier;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  /** Monotonic time of the batchers. */
  readonly clock: Clock;
  /** Wall time (ms since epoch): deadlines, timestamps. */
  readonly now: () => number;
}

/** Enough of a broken message to mark its job failed, when it names one. */
const LooseJobId = z.object({ jobId: z.string().min(1).max(200) });

/**
 * One delivery, start to finish (STYLE practice 10): parse -> expert -> input shape -> deadline -> markRunning (the
 * job-store check: a finished job is acknowledged without running the model again) -> request signature -> batch ->
 * sign the answer -> conditional complete (first write wins) -> delete, and only then. Unrecoverable problems go
 * to the dead-letter queue at once; anything else leaves the message to come back after a backed-off visibility.
 */
export async function handleMessage(message: ReceivedMessage, ctx: JobContext): Promise<JobOutcome> {
  const startedAt = ctx.now();
  ctx.metrics.inc("received");
  ctx.metrics.queueWaitMs.add(Math.max(0, startedAt - message.sentAt));
  const state: { jobId?: string } = {};
  try {
    const outcome = await processJob(message, ctx, state);
    ctx.metrics.jobMs.add(ctx.now() - startedAt);
    return outcome;
  } catch (error) {
    if (error instanceof UnrecoverableJobError) {
      return deadLetter(message, ctx, state.jobId, error.code, error.message, false);
    }
    return retryLater(message, ctx, state.jobId, error);
  }
}

async function processJob(message: ReceivedMessage, ctx: JobContext, state: { jobId?: string }): Promise<JobOutcome> {
  const job = parseMessage(message.body, state);
  const expert = ctx.pool.byHotkey(job.hotkey);
  // Not unrecoverable: a newly added expert reaches the queue before this worker's next manifest reload, or
  // another worker serves it. The message returns after a short backoff; past maxReceives it is dead-lettered.
  if (expert === undefined) throw new ExpertNotServedError(job.hotkey);
  if (expert.manifest.task !== job.task) {
    throw new UnrecoverableJobError("task_mismatch", `expert ${expert.manifest.id} serves ${expert.manifest.task}`);
  }
  const problem = inputProblem(expert.manifest, job.input);
  if (problem !== null) throw new UnrecoverableJobError("bad_input", problem);
  if (ctx.now() > job.deadline) return expire(message, ctx, job.jobId);

  const running = await ctx.jobs.markRunning(job.jobId, ctx.config.workerId, ctx.now());
  if (!running.ok) {
    if (running.job === null)
      throw new UnrecoverableJobError("unknown_job", `job ${job.jobId} is not in the job store`);
    if (!TERMINAL_JOB_STATUSES.has(running.job.status))
      throw new Error(`markRunning refused a ${running.job.status} job`);
    ctx.metrics.inc("duplicatesSkipped");
    await acknowledge(message, ctx);
    return "duplicate";
  }
  verifyRequest(job, ctx);

  const ran = await runOnExpert(expert, job, ctx);
  if (ran === "expired") return expire(message, ctx, job.jobId);
  const body = JSON.stringify({ jobId: job.jobId, uid: job.uid, output: ran.output });
  const answer: ExpertAnswer = {
    body,
    output: ran.output,
    signature: signEpistula(expert.signer, body, job.request?.signedBy ?? ctx.config.gatewayAddress, {
      now: ctx.now(),
    }),
    modelSha256: expert.manifest.model.sha256,
    inferenceMs: ran.runMs,
    batchSize: ran.batchSize,
    workerId: ctx.config.workerId,
  };
  const stored = await ctx.jobs.complete(job.jobId, answer, ctx.now());
  if (stored.ok) ctx.metrics.inc("succeeded");
  else ctx.metrics.inc("duplicatesSkipped");
  // Only now that the result is durable may the message go.
  await acknowledge(message, ctx);
  return stored.ok ? "succeeded" : "duplicate";
}

function parseMessage(body: string, state: { jobId?: string }): JobMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new UnrecoverableJobError("bad_message", "body is not JSON");
  }
  const parsed = JobMessage.safeParse(raw);
  if (parsed.success) {
    state.jobId = parsed.data.jobId;
    return parsed.data;
  }
  const loose = LooseJobId.safeParse(raw);
  if (loose.success) state.jobId = loose.data.jobId;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new UnrecoverableJobError("bad_message", issues.join("; "));
}

/**
 * The request must be signed validly by a trusted sender (when a list is configured) and bound to this expert's
 * hotkey or to no one. Freshness uses the wide `requestMaxAgeMs`, since queue time counts (see config.ts).
 */
function verifyRequest(job: JobMessage, ctx: JobContext): void {
  const sig = job.request;
  if (sig === undefined) return;
  const body = JSON.stringify({ jobId: job.jobId, task: job.task, uid: job.uid, input: job.input });
  const result = verifyEpistula(ctx.verifier, body, sig, {
    now: ctx.now(),
    maxAgeMs: ctx.config.requestMaxAgeMs,
    ...(sig.signedFor === "" ? {} : { signedFor: job.hotkey }),
  });
  const trusted = ctx.config.trustedSenders.length === 0 || ctx.config.trustedSenders.includes(sig.signedBy);
  if (result.ok && trusted) return;
  ctx.metrics.inc("badSignatures");
  const reason = result.ok ? "wrong_signer" : result.reason;
  throw new UnrecoverableJobError("bad_request_signature", `request signature rejected: ${reason}`);
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
async function runOnExpert(expert: ServedExpert, job: JobMessage, ctx: JobContext): Promise<Ran | "expired"> {
  const expiresAt = ctx.clock.now() + (job.deadline - ctx.now());
  try {
    const result = await expert.batcher.submit(job.input, { expiresAt });
    ctx.metrics.batchWaitMs.add(result.queueMs);
    return result;
  } catch (error) {
    if (error instanceof ItemExpiredError) return "expired";
    if (!(error instanceof ModelRunError) || error.batchSize <= 1) throw error;
  }
  ctx.metrics.inc("soloRetries");
  const started = ctx.clock.now();
  try {
    const outputs = await expert.model.runBatch([job.input]);
    const runMs = ctx.clock.now() - started;
    ctx.metrics.batch(1, runMs);
    if (outputs.length !== 1) throw new Error(`model returned ${outputs.length} outputs for 1 input`);
    return { output: outputs[0], runMs, batchSize: 1 };
  } catch (error) {
    throw new ModelRunError(error, 1);
  }
}

async function expire(message: ReceivedMessage, ctx: JobContext, jobId: string): Promise<JobOutcome> {
  await ctx.jobs.expire(jobId, ctx.now());
  ctx.metrics.inc("expired");
  await acknowledge(message, ctx);
  return "expired";
}

/** A failed delete is not a failed job: the redelivery will find the job finished and skip it. */
async function acknowledge(message: ReceivedMessage, ctx: JobContext): Promise<void> {
  try {
    await ctx.queue.delete(message.receipt);
  } catch (error) {
    ctx.metrics.error("delete_failed");
    ctx.logger.warn("delete failed; the redelivery will be skipped as a duplicate", {
      messageId: message.messageId,
      error,
    });
  }
}

async function deadLetter(
  message: ReceivedMessage,
  ctx: JobContext,
  jobId: string | undefined,
  code: string,
  detail: string,
  retryable: boolean,
): Promise<JobOutcome> {
  const reason = `${code}: ${detail}`;
  try {
    // Failed first, then moved: if the move fails the message stays and the next delivery tries again.
    if (jobId !== undefined) await ctx.jobs.fail(jobId, { code, message: detail, retryable }, ctx.now());
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
  ctx.metrics.error(code);
  ctx.logger.warn("message dead-lettered", { messageId: message.messageId, jobId, reason });
  return "dead_lettered";
}

async function retryLater(
  message: ReceivedMessage,
  ctx: JobContext,
  jobId: string | undefined,
  error: unknown,
): Promise<JobOutcome> {
  const code = retryableCode(error);
  if (message.receiveCount >= ctx.config.maxReceives) {
    // Last delivery the queue allows: move it ourselves so the reason travels with it (a redrive would drop it).
    return deadLetter(
      message,
      ctx,
      jobId,
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
