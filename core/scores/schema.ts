import { z } from "zod";

/** One expert's result for one task in one validator epoch. */
export const ExpertScore = z.object({
  uid: z.number().int().min(0),
  hotkey: z.string(),
  /** Shapley value of this epoch (quality units: Brier-based, see core/scoring). */
  shapley: z.number(),
  /** Exponential moving average of `shapley` over epochs; restarts at zero when the uid's hotkey changes. */
  ema: z.number(),
  /** Solo accuracy and Brier score on this epoch's hidden items (for the API and plots). */
  accuracy: z.number().min(0).max(1),
  brier: z.number().min(0),
  /** Items answered (a missing answer counts as the uniform prior). */
  answered: z.number().int().min(0),
  items: z.number().int().min(0),
  /** Player this expert was merged into as a copy (uid of the original), if any. */
  copyOf: z.number().int().min(0).nullable().default(null),
});
export type ExpertScore = z.infer<typeof ExpertScore>;

export const EpochScores = z.object({
  task: z.string(),
  epoch: z.number().int().min(0),
  at: z.number().int(),
  rows: z.array(ExpertScore),
});
export type EpochScores = z.infer<typeof EpochScores>;

/** What the validator sent to the chain for one epoch, and what the chain answered. */
export const WeightSubmission = z.object({
  netuid: z.number().int(),
  epoch: z.number().int().min(0),
  path: z.enum(["set_weights", "commit_reveal_v2", "timelock", "none"]),
  uids: z.array(z.number().int()),
  values: z.array(z.number().int().min(0).max(65535)),
  versionKey: z.string(),
  status: z.enum(["claimed", "sent", "accepted", "rejected", "unknown", "revealed", "reveal_missed"]),
  claimedAt: z.number().int(),
  block: z.number().int().optional(),
  txHash: z.string().optional(),
  error: z.string().optional(),
  /** Timelock: the drand round the commit opens at. CR v2: the salt, kept to reveal later. */
  revealRound: z.string().optional(),
  salt: z.array(z.number().int()).optional(),
  note: z.string().optional(),
});
export type WeightSubmission = z.infer<typeof WeightSubmission>;

/** A router's learned parameters for one task, versioned so the API can hot-swap them. */
export const RouterParams = z.object({
  task: z.string(),
  version: z.number().int().min(0),
  epoch: z.number().int().min(0),
  at: z.number().int(),
  /** Opaque to storage: the routing module parses its own shape. */
  params: z.unknown(),
});
export type RouterParams = z.infer<typeof RouterParams>;

/** A newcomer's answer to a paid query, computed and signed but not averaged into the client's result nor paid. */
export const ShadowAnswer = z.object({
  hotkey: z.string().min(1).max(64),
  uid: z.number().int().min(0),
  task: z.string(),
  jobId: z.string().min(1),
  requestId: z.string().min(1),
  /** sha256 of the model that answered (as the worker signed it). */
  modelSha256: z.string(),
  at: z.number().int(),
});
export type ShadowAnswer = z.infer<typeof ShadowAnswer>;
