import type { ScoreStore } from "../../core/ports/scores.ts";
import type { EpochScores, RouterParams, ShadowAnswer, WeightSubmission } from "../../core/scores/schema.ts";

/** In-memory ScoreStore with the same semantics as the DynamoDB one (unit tests, benchmarks). */
export class MemoryScoreStore implements ScoreStore {
  private readonly scores = new Map<string, EpochScores>();
  private readonly submissions = new Map<string, WeightSubmission>();
  private readonly routers = new Map<string, RouterParams>();
  private readonly shadow = new Map<string, Map<string, ShadowAnswer>>();

  async putEpochScores(scores: EpochScores): Promise<void> {
    this.scores.set(`${scores.task}#${scores.epoch}`, structuredClone(scores));
  }
  async epochScores(task: string, epoch: number): Promise<EpochScores | null> {
    return structuredClone(this.scores.get(`${task}#${epoch}`) ?? null);
  }
  async latestScores(task: string): Promise<EpochScores | null> {
    let best: EpochScores | null = null;
    for (const s of this.scores.values()) if (s.task === task && (best === null || s.epoch > best.epoch)) best = s;
    return structuredClone(best);
  }
  async claimSubmission(submission: WeightSubmission): Promise<boolean> {
    const key = `${submission.netuid}#${submission.epoch}`;
    if (this.submissions.has(key)) return false;
    this.submissions.set(key, structuredClone(submission));
    return true;
  }
  async updateSubmission(netuid: number, epoch: number, patch: Partial<WeightSubmission>): Promise<void> {
    const key = `${netuid}#${epoch}`;
    const current = this.submissions.get(key);
    if (current) this.submissions.set(key, { ...current, ...structuredClone(patch), netuid, epoch });
  }
  async submission(netuid: number, epoch: number): Promise<WeightSubmission | null> {
    return structuredClone(this.submissions.get(`${netuid}#${epoch}`) ?? null);
  }
  async recentSubmissions(netuid: number, limit: number): Promise<WeightSubmission[]> {
    return [...this.submissions.values()]
      .filter((s) => s.netuid === netuid)
      .sort((a, b) => b.epoch - a.epoch)
      .slice(0, limit)
      .map((s) => structuredClone(s));
  }
  async putRouter(params: RouterParams): Promise<void> {
    const current = this.routers.get(params.task);
    if (!current || params.version >= current.version) this.routers.set(params.task, structuredClone(params));
  }
  async latestRouter(task: string): Promise<RouterParams | null> {
    return structuredClone(this.routers.get(task) ?? null);
  }
  async recordShadowAnswer(answer: ShadowAnswer): Promise<void> {
    const mine = this.shadow.get(answer.hotkey) ?? new Map<string, ShadowAnswer>();
    mine.set(answer.jobId, structuredClone(answer));
    this.shadow.set(answer.hotkey, mine);
  }
  async shadowAnswerCount(hotkey: string, limit: number): Promise<number> {
    return Math.min(limit, this.shadow.get(hotkey)?.size ?? 0);
  }
}
