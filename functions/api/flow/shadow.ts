import type { JobRecord } from "../../../core/jobs/schema.ts";
import type { NoticeAnswer } from "../../../core/jobs/settle-notice.ts";
import type { RequestRecord, RoutedExpert } from "../../../core/ports/requests.ts";
import type { ScoreStore } from "../../../core/ports/scores.ts";
import { checkAnswer, checkCarriedAnswer } from "./answers.ts";
import { jobIdOf } from "./ids.ts";
import type { SettleDeps } from "./settle.ts";

export type ShadowDeps = SettleDeps & { readonly shadowAnswers?: Pick<ScoreStore, "recordShadowAnswer"> };

/**
 * Records the exploration lane's answers of a paid query (issue 15): each newcomer's answer that a trusted worker
 * signed for this job, expert and input (the same check as a paid answer) is kept for the validator and counted in
 * the miner's status. Nothing here touches the client's result, hold or fee split. Idempotent (one entry per job),
 * so every settle notice may call it; returns how many answers are recorded.
 *
 * A notice that carries answers is the one to record the shadow answers among them, and only those: a shadow job's
 * answer travels in its own worker's notice (alone, or joined to the routed jobs' notice there). Reading the others
 * from the table as well found them stored and put each a second time when its own notice came (two writes a
 * shadow answer, issue 17). A notice that carries none (the sweeper's, or one whose answers were left out), or that
 * lost some in parsing, reads them all, as does a carried answer that does not check. Left to chance as before: a
 * shadow answer whose own notice is lost (its send failed, or its worker died holding it) is recorded only if a
 * notice carrying none comes later.
 */
export async function recordShadowAnswers(
  deps: ShadowDeps,
  record: RequestRecord,
  /** Answers a settle notice carries (its worker stored them): a shadow job's own is then not read back. */
  carried: readonly NoticeAnswer[] = [],
  /** Whether shadow answers it does not carry are read from the table (below): when it carries none of its own. */
  readUncarried = carried.length === 0,
): Promise<number> {
  const shadow = record.shadow ?? [];
  if (shadow.length === 0 || deps.shadowAnswers === undefined) return 0;
  const accepted: { expert: RoutedExpert; job: JobRecord }[] = [];
  const unread: RoutedExpert[] = [];
  for (const expert of shadow) {
    const answer = carried.find((a) => a.uid === expert.uid)?.answer;
    // Checked like a stored answer; one that fails (or none carried) is read from the table instead.
    const check = answer && checkCarriedAnswer(answer, expert, record, deps.tasks, deps.verifier, deps.workerKeys);
    if (check?.ok) accepted.push({ expert, job: check.job });
    else if (answer !== undefined || readUncarried) unread.push(expert);
  }
  const read = unread.length > 0 ? await deps.jobs.getMany(unread.map((e) => jobIdOf(record.requestId, e.uid))) : [];
  for (const expert of unread) {
    const job = read.find((j) => j.uid === expert.uid);
    if (job?.status !== "succeeded") continue;
    const check = checkAnswer(job, expert, record, deps.tasks, deps.verifier, deps.workerKeys);
    if (check.ok) accepted.push({ expert, job });
    else
      deps.logger.warn("shadow answer rejected", {
        requestId: record.requestId,
        uid: expert.uid,
        reason: check.reason,
      });
  }
  for (const { expert, job } of accepted) {
    await deps.shadowAnswers.recordShadowAnswer({
      hotkey: expert.hotkey,
      uid: expert.uid,
      task: record.task,
      jobId: job.jobId,
      requestId: record.requestId,
      modelSha256: job.answer?.modelSha256 ?? "",
      // When the answer was signed (checked against the request's window): the same whether its job was read or
      // its notice carried it, where the table's finishedAt is not known.
      at: Number(job.answer?.signature.timestamp ?? job.finishedAt ?? deps.clock.now()),
    });
  }
  return accepted.length;
}
