import { nodeBytes } from "../../adapters/bytes/node-bytes.ts";
import { eachBounded } from "../../core/batching/bounded.ts";
import { signEpistula } from "../../core/epistula/epistula.ts";
import { verifySignedAnswer } from "../../core/jobs/answer-batch.ts";
import { parseAnswerBody, requestSignedText, trustedWorker } from "../../core/jobs/integrity.ts";
import { encodeJobInput } from "../../core/jobs/job-input.ts";
import { type JobMessage, type JobRecord, TERMINAL_JOB_STATUSES } from "../../core/jobs/schema.ts";
import type { ScoredExpert, ValidationItem, ValidatorDeps } from "./types.ts";

/** The answers of one task's experts to one epoch's items: answers[e][i] is the verified output or null. */
export interface CollectedAnswers {
  readonly answers: (unknown | null)[][];
  readonly sent: number;
  readonly answered: number;
  readonly rejected: number;
}

const jobIdOf = (requestId: string, item: number, uid: number) => `${requestId}:${item}:${uid}`;

/**
 * Sends every item to every expert through the validation queue (deps.queue: the workers take paid queries first and
 * these within a bounded share of their slots, issue 17), signed by the validator (Epistula), then waits until each
 * job is finished or the deadline passes. The jobs are created together (`createMany`: one read, then batch writes of
 * those missing), so a rerun of the same epoch reuses them instead of asking twice. Each record carries its input's
 * digest, which a worker checks the message against and the expert signs with its answer. An answer counts only when
 * the expert's hotkey signed exactly this job's body, for this item's input.
 */
export async function collectAnswers(
  deps: ValidatorDeps,
  requestId: string,
  task: string,
  experts: readonly ScoredExpert[],
  items: readonly ValidationItem[],
): Promise<CollectedAnswers> {
  const now = deps.now();
  const deadline = now + deps.config.answerTimeoutMs;
  const bodies: string[] = [];
  // Once per item: its queue form (a tensor as base64 float32 bytes) and its digest, shared by every expert's job.
  const encoded = items.map((item) => encodeJobInput(item.input, nodeBytes));
  const jobs = experts.flatMap((expert) =>
    encoded.map(
      ({ digest }, i): JobRecord => ({
        jobId: jobIdOf(requestId, i, expert.uid),
        requestId,
        kind: "validation",
        task,
        uid: expert.uid,
        hotkey: expert.hotkey,
        inputDigest: digest,
        status: "queued",
        createdAt: now,
        deadline,
        attempts: 0,
      }),
    ),
  );
  // One call per 25 records instead of one each (issue 17: an epoch's 480 creates were a third of its table calls).
  const existing = new Map((await deps.jobs.createMany(jobs)).map((r) => [r.jobId, r]));
  // One expert's jobs at a time: signed, then sent. The signatures of a whole epoch (~50 ms) would otherwise hold the
  // event loop in one piece, and in the local market the API shares it.
  for (const expert of experts) {
    const own: string[] = [];
    for (const [i, { wire, digest }] of encoded.entries()) {
      const jobId = jobIdOf(requestId, i, expert.uid);
      const before = existing.get(jobId);
      // A rerun of this epoch: a job still queued may never have reached the queue (a crash between the record and
      // the send), so it is sent again; workers keep only the first answer, so a duplicate costs nothing.
      if (before !== undefined && before.status !== "queued") continue;
      const signed = requestSignedText({ jobId, task, uid: expert.uid, inputDigest: digest });
      const message: JobMessage = {
        v: 1,
        jobId,
        requestId,
        kind: "validation",
        task,
        uid: expert.uid,
        hotkey: expert.hotkey,
        ...wire,
        deadline,
        enqueuedAt: now,
        request: signEpistula(deps.signer, signed, expert.hotkey, { now }),
      };
      own.push(JSON.stringify(message));
    }
    if (own.length > 0) await deps.queue.sendMany(own);
    bodies.push(...own);
  }

  const ids = experts.flatMap((expert) => items.map((_, i) => jobIdOf(requestId, i, expert.uid)));
  let records = new Map<string, JobRecord>();
  for (let wait = 100; ; wait = Math.min(wait * 1.5, 1000)) {
    records = new Map((await deps.jobs.getMany(ids)).map((r) => [r.jobId, r]));
    const done = ids.every((id) => {
      const status = records.get(id)?.status;
      return status !== undefined && TERMINAL_JOB_STATUSES.has(status);
    });
    if (done || deps.now() >= deadline) break;
    deps.signal?.throwIfAborted();
    await deps.sleep(wait);
  }

  let answered = 0;
  let rejected = 0;
  const late: string[] = [];
  const answers = experts.map((expert) =>
    items.map((_, i): unknown | null => {
      const jobId = jobIdOf(requestId, i, expert.uid);
      const record = records.get(jobId);
      if (record === undefined) return null;
      if (!TERMINAL_JOB_STATUSES.has(record.status)) {
        late.push(jobId);
        return null;
      }
      if (record.status !== "succeeded" || record.answer === undefined) return null;
      const output = verifiedOutput(deps, record, expert, encoded[i]?.digest ?? "");
      if (output === undefined) {
        rejected++;
        return null;
      }
      answered++;
      return output;
    }),
  );
  await expireLate(deps, late);
  return { answers, sent: bodies.length, answered, rejected };
}

/** Expiries in flight at once: enough to finish an epoch's worth in well under a second, few enough to share. */
export const EXPIRE_CONCURRENCY = 4;
/** How long an epoch spends expiring its late jobs at most: past it, the rest is left to the workers. */
export const EXPIRE_BUDGET_MS = 10_000;

/**
 * Late answers are useless to this epoch; expiring their jobs keeps workers from running them (a worker that claims
 * one past its deadline expires it itself, so a job left unexpired costs a claim, never a wrong answer). A few at a
 * time: an epoch whose workers fell behind has hundreds, and started at once they took every socket of the client
 * the local API shares, whose queries then failed on connection timeouts. Bounded in time too (tens of thousands of
 * late bootstrap jobs must not hold back the epoch's weights), and ended by the first failure (the table is in
 * trouble; nothing here is worth waiting for), with one warning for the epoch instead of one per job.
 */
async function expireLate(deps: ValidatorDeps, jobIds: readonly string[]): Promise<void> {
  const until = deps.now() + EXPIRE_BUDGET_MS;
  let failure: unknown;
  let expired = 0;
  await eachBounded(
    jobIds,
    EXPIRE_CONCURRENCY,
    async (jobId) => {
      await deps.jobs.expire(jobId, deps.now()).then(
        () => void expired++,
        (error: unknown) => {
          failure ??= error;
        },
      );
    },
    () => failure !== undefined || deps.now() > until || deps.signal?.aborted === true,
  );
  if (expired < jobIds.length) {
    deps.log.warn("late jobs left to expire on their own", { late: jobIds.length, expired, error: failure });
  }
}

function verifiedOutput(
  deps: ValidatorDeps,
  record: JobRecord,
  expert: ScoredExpert,
  digest: string,
): unknown | undefined {
  const answer = record.answer;
  if (answer === undefined) return undefined;
  if (!trustedWorker(answer.signature.signedBy, deps.workerKeys)) {
    deps.log.warn("answer rejected", { jobId: record.jobId, uid: expert.uid, reason: "untrusted_worker" });
    return undefined;
  }
  const check = verifySignedAnswer(deps.verifier, answer.body, answer.signature, answer.proof, {
    now: deps.now(),
    // The answer was signed when it was produced; only its signer and bytes matter here, not its age.
    maxAgeMs: Number.MAX_SAFE_INTEGER,
  });
  if (!check.ok) {
    deps.log.warn("answer rejected", { jobId: record.jobId, uid: expert.uid, reason: check.reason });
    return undefined;
  }
  const body = parseAnswerBody(answer.body);
  if (body === null || body.jobId !== record.jobId || body.uid !== expert.uid) return undefined;
  if (body.hotkey !== expert.hotkey || body.inputDigest !== digest) return undefined;
  // The model the validator scores is the one the chain (or directory) names for this uid, not another.
  if (body.modelSha256 !== expert.modelSha256) return undefined;
  return body.output;
}
