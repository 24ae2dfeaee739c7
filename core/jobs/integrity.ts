import { z } from "zod";

/**
 * Job integrity (issue 13): the gateway or validator records the digest of the input a worker must run with each
 * job; a worker runs a queue message only when its input has that digest, and the expert signs the digest with its
 * answer, so a message forged by someone with queue access alone can neither substitute another input nor touch a
 * job it did not create.
 *
 * Issue 15: the answer is signed by the worker's own serving key (never a miner's hotkey, whose secret only the
 * miner holds) and binds the miner's hotkey and the model's digest besides the job, input and output; readers accept
 * it only from a serving key they trust (the registered worker keys).
 *
 * Issue 17: one signature covers a batch of answers: the worker signs the Merkle root of the bodies it finished
 * together, and each answer carries its inclusion proof (answer-batch.ts). The input digest and the input's form on
 * the queue are defined in job-input.ts.
 */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * The exact text a job's sender signs (Epistula, `request` of the job message; required on validation jobs): the
 * job, the task, the expert, and the input by its digest (job-input.ts), so that neither side writes the input
 * out again to sign or check it.
 */
export function requestSignedText(job: {
  readonly jobId: string;
  readonly task: string;
  readonly uid: number;
  readonly inputDigest: string;
}): string {
  return JSON.stringify({ jobId: job.jobId, task: job.task, uid: job.uid, inputDigest: job.inputDigest });
}

/**
 * The exact text a paid query's gateway signs once for all its jobs (PaidQuery in schema.ts, issue 17): the query,
 * its task, input (by digest), creation and deadline, and the experts it routed and shadows, each as [uid, hotkey].
 * A worker rebuilds it from the message and the digest of the input it received.
 */
export function paidQuerySignedText(query: {
  readonly requestId: string;
  readonly task: string;
  readonly inputDigest: string;
  readonly createdAt: number;
  readonly deadline: number;
  readonly experts: readonly (readonly [number, string])[];
  readonly shadow?: readonly (readonly [number, string])[] | undefined;
}): string {
  return JSON.stringify({
    v: 1,
    requestId: query.requestId,
    task: query.task,
    inputDigest: query.inputDigest,
    createdAt: query.createdAt,
    deadline: query.deadline,
    experts: query.experts,
    shadow: query.shadow ?? [],
  });
}

/** What a worker signs for one job: the job, the miner answering, its model, the input it ran (by digest), the output. */
export const AnswerBody = z.strictObject({
  jobId: z.string().min(1).max(200),
  uid: z.number().int().min(0).max(65535),
  hotkey: z.string().min(40).max(60),
  modelSha256: Sha256Hex,
  inputDigest: Sha256Hex,
  output: z.unknown(),
});
export type AnswerBody = z.infer<typeof AnswerBody>;

/** Most answers one batch signature may cover (issue 17, answer-batch.ts): 2^12, so a proof has at most 12 hashes. */
export const MAX_ANSWER_BATCH = 4096;

/** Where an answer sits in its signed batch (answer-batch.ts): its index, the batch size, sibling hashes leaf to root. */
export const AnswerProof = z.strictObject({
  index: z
    .number()
    .int()
    .min(0)
    .max(MAX_ANSWER_BATCH - 1),
  count: z.number().int().min(1).max(MAX_ANSWER_BATCH),
  path: z.array(Sha256Hex).max(12),
});
export type AnswerProof = z.infer<typeof AnswerProof>;

/** The exact text signed: fields in this fixed order (the signature covers these bytes, not a re-serialisation). */
export function answerBodyText(body: AnswerBody): string {
  return JSON.stringify({
    jobId: body.jobId,
    uid: body.uid,
    hotkey: body.hotkey,
    modelSha256: body.modelSha256,
    inputDigest: body.inputDigest,
    output: body.output,
  });
}

/** The signed body, parsed strictly (unknown fields or duplicate-free shape otherwise refused); null if not one. */
export function parseAnswerBody(text: string): AnswerBody | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = AnswerBody.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** What a job message claims about its job, with the digest of its input (core/ports/jobs.ts JobClaim). */
export function claimOf(
  message: {
    readonly requestId: string;
    readonly kind: "paid" | "validation";
    readonly task: string;
    readonly uid: number;
    readonly hotkey: string;
  },
  inputDigest: string,
) {
  const { requestId, kind, task, uid, hotkey } = message;
  return { requestId, kind, task, uid, hotkey, inputDigest };
}

/**
 * Why a job record does not vouch for a message (null when it does): the record must exist, carry an input digest,
 * and name the same job, request, kind, task, expert (uid and hotkey) and input as the message.
 */
export function recordMismatch(
  record: {
    readonly jobId: string;
    readonly requestId: string;
    readonly kind: string;
    readonly task: string;
    readonly uid: number;
    readonly hotkey: string;
    readonly inputDigest?: string | undefined;
  } | null,
  message: {
    readonly jobId: string;
    readonly requestId: string;
    readonly kind: string;
    readonly task: string;
    readonly uid: number;
    readonly hotkey: string;
  },
  digest: string,
): string | null {
  if (record === null) return "unknown_job";
  if (record.inputDigest === undefined) return "no_input_digest";
  // The job id too: the answer is signed for it and stored under it, so a message naming another job (a validator's,
  // say) with this job's facts would answer that one.
  if (record.jobId !== message.jobId) return "job_mismatch";
  if (record.requestId !== message.requestId) return "request_mismatch";
  if (record.kind !== message.kind) return "kind_mismatch";
  if (record.task !== message.task) return "task_mismatch";
  if (record.uid !== message.uid || record.hotkey !== message.hotkey) return "expert_mismatch";
  if (record.inputDigest !== digest) return "input_mismatch";
  return null;
}

/** A serving key the reader trusts (a registered worker key), by ss58; an empty list trusts none. */
export function trustedWorker(signedBy: string, workerKeys: readonly string[]): boolean {
  return workerKeys.includes(signedBy);
}
