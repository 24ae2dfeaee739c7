import type { RequestRecord } from "../../../core/ports/requests.ts";
import type { ScoreStore } from "../../../core/ports/scores.ts";
import { checkAnswer } from "./answers.ts";
import { jobIdOf } from "./ids.ts";
import type { SettleDeps } from "./settle.ts";

export type ShadowDeps = SettleDeps & { readonly shadowAnswers?: Pick<ScoreStore, "recordShadowAnswer"> };

/**
 * Records the exploration lane's answers of a paid query (issue 15): each newcomer's answer that a trusted worker
 * signed for this job, expert and input (the same check as a paid answer) is kept for the validator and counted in
 * the miner's status. Nothing here touches the client's result, hold or fee split. Idempotent (one entry per job),
 * so every settle notice may call it; returns how many answers are recorded.
 */
export async function recordShadowAnswers(deps: ShadowDeps, record: RequestRecord): Promise<number> {
  const shadow = record.shadow ?? [];
  if (shadow.length === 0 || deps.shadowAnswers === undefined) return 0;
  const jobs = await deps.jobs.getMany(shadow.map((e) => jobIdOf(record.requestId, e.uid)));
  let recorded = 0;
  for (const expert of shadow) {
    const job = jobs.find((j) => j.uid === expert.uid);
    if (job?.status !== "succeeded") continue;
    const check = checkAnswer(job, expert, record, deps.tasks, deps.verifier, deps.workerKeys);
    if (!check.ok) {
      deps.logger.warn("shadow answer rejected", {
        requestId: record.requestId,
        uid: expert.uid,
        reason: check.reason,
      });
      continue;
    }
    await deps.shadowAnswers.recordShadowAnswer({
      hotkey: expert.hotkey,
      uid: expert.uid,
      task: record.task,
      jobId: job.jobId,
      requestId: record.requestId,
      modelSha256: job.answer?.modelSha256 ?? "",
      at: job.finishedAt ?? deps.clock.now(),
    });
    recorded++;
  }
  return recorded;
}
