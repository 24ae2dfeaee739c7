import { verifySignedAnswer } from "../../../core/jobs/answer-batch.ts";
import { parseAnswerBody, trustedWorker } from "../../../core/jobs/integrity.ts";
import { paidJobOf } from "../../../core/jobs/paid-job.ts";
import type { ExpertAnswer, JobRecord } from "../../../core/jobs/schema.ts";
import type { RequestRecord, RoutedExpert } from "../../../core/ports/requests.ts";
import type { SignatureVerifier } from "../../../core/ports/signer.ts";
import type { TaskCatalog } from "../deps.ts";

/** A signature made this long before the request or after its deadline is not one the expert made for it. */
const CLOCK_SKEW_MS = 60_000;

export type AnswerCheck =
  | { readonly ok: true; readonly output: unknown; readonly job: JobRecord }
  | { readonly ok: false; readonly reason: string };

/**
 * Accepts an expert's stored answer only if its proof leads from exactly
 * `{jobId, uid, hotkey, modelSha256, inputDigest, output}` to a batch root a trusted worker serving key signed
 * (Epistula, core/jobs/answer-batch.ts), for this job, this expert and the request's own input
 * digest, at a plausible time, and the output fits the task's schema: an answer to any other input (a substituted
 * job message) or from any other key is refused. The output used is the signed one, never the unsigned copy.
 */
export function checkAnswer(
  job: JobRecord,
  expert: RoutedExpert,
  request: RequestRecord,
  tasks: TaskCatalog,
  verifier: SignatureVerifier,
  workerKeys: readonly string[],
): AnswerCheck {
  const answer = job.answer;
  if (job.status !== "succeeded" || !answer) return { ok: false, reason: "no_answer" };
  const signedAt = Number(answer.signature.timestamp);
  if (signedAt < request.createdAt - CLOCK_SKEW_MS || signedAt > request.deadline + CLOCK_SKEW_MS) {
    return { ok: false, reason: "signature_time" };
  }
  // Freshness is judged above against the request's window, so verify "as of" the signing time.
  if (!trustedWorker(answer.signature.signedBy, workerKeys)) return { ok: false, reason: "untrusted_worker" };
  const verdict = verifySignedAnswer(verifier, answer.body, answer.signature, answer.proof, { now: signedAt });
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  const body = parseAnswerBody(answer.body);
  if (body === null) return { ok: false, reason: "body_shape" };
  if (body.jobId !== job.jobId || body.uid !== expert.uid || body.hotkey !== expert.hotkey) {
    return { ok: false, reason: "body_mismatch" };
  }
  if (body.modelSha256 !== answer.modelSha256) return { ok: false, reason: "model_mismatch" };
  if (request.inputDigest === undefined || body.inputDigest !== request.inputDigest) {
    return { ok: false, reason: "input_mismatch" };
  }
  const parsed = tasks.parseOutput(request.task, body.output);
  if (!parsed.ok) return { ok: false, reason: "output_schema" };
  return { ok: true, output: parsed.value, job };
}

/**
 * checkAnswer for an answer a settle notice carries (its worker's stored answer, core/jobs/settle-notice.ts), on the
 * job record its request implies: the same checks as a stored answer's. The accepted check's `job` stands for the
 * stored one.
 */
export function checkCarriedAnswer(
  answer: ExpertAnswer,
  expert: RoutedExpert,
  request: RequestRecord,
  tasks: TaskCatalog,
  verifier: SignatureVerifier,
  workerKeys: readonly string[],
): AnswerCheck {
  const implied = paidJobOf(request, expert.uid);
  if (implied === null) return { ok: false, reason: "no_job" };
  const job: JobRecord = { ...implied, status: "succeeded", attempts: 1, answer };
  return checkAnswer(job, expert, request, tasks, verifier, workerKeys);
}

/** Gates of the experts that answered, rescaled to sum to 1 (equal when they sum to 0). */
export function renormalise(gates: readonly number[]): number[] {
  const sum = gates.reduce((s, g) => s + (Number.isFinite(g) && g > 0 ? g : 0), 0);
  if (sum <= 0) return gates.map(() => 1 / gates.length);
  return gates.map((g) => (Number.isFinite(g) && g > 0 ? g : 0) / sum);
}
