import type { EpochScores, RouterParams, WeightSubmission } from "../scores/schema.ts";

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
}
