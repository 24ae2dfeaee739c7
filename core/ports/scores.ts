import type { EpochScores, RouterParams, ShadowAnswer, WeightSubmission } from "../scores/schema.ts";

/** Scores port: per-epoch Shapley results, weight submissions and router parameters. */
export interface ScoreStore {
  putEpochScores(scores: EpochScores): Promise<void>;
  epochScores(task: string, epoch: number): Promise<EpochScores | null>;
  latestScores(task: string): Promise<EpochScores | null>;
  /** Records the intent to submit weights for an epoch; false when this epoch was already claimed (never two submissions). */
  claimSubmission(submission: WeightSubmission): Promise<boolean>;
  updateSubmission(netuid: number, epoch: number, patch: Partial<WeightSubmission>): Promise<void>;
  submission(netuid: number, epoch: number): Promise<WeightSubmission | null>;
  recentSubmissions(netuid: number, limit: number): Promise<WeightSubmission[]>;
  putRouter(params: RouterParams): Promise<void>;
  latestRouter(task: string): Promise<RouterParams | null>;
  /**
   * Records a newcomer's signed answer to a paid query it shadowed (issue 15's exploration lane): one entry per job,
   * so a replayed record counts once. The validator may read them; the miner's status counts them.
   */
  recordShadowAnswer(answer: ShadowAnswer): Promise<void>;
  /** How many shadow answers a hotkey has, counted up to `limit`. */
  shadowAnswerCount(hotkey: string, limit: number): Promise<number>;
}
