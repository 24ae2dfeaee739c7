export { type DuplicateOptions, type ExpertGroup, type ExpertRegistration, groupDuplicates } from "./duplicates.ts";
export { EmaRecord, type EmaUpdate, type EpochValue, reconcileHotkeys, updateEma } from "./ema.ts";
export { createEnsembleGame, type EnsembleGameInput, type GameVariant } from "./ensemble-game.ts";
export { allCoalitionValues, type ExactShapley, exactShapley, shapleyFromTable } from "./exact-shapley.ts";
export { type CleanOutputs, cleanOutputs, type ExpertOutputs, ScoringInputError } from "./expert-outputs.ts";
export type { CoalitionGame } from "./game.ts";
export { QUALITY_METRICS, type QualityMetric, uniformQuality } from "./quality.ts";
export { type SampledShapley, type SampledShapleyOptions, sampledShapley } from "./sampled-shapley.ts";
export {
  DEFAULT_EXACT_MAX_PLAYERS,
  type EpochExpert,
  type EpochScoring,
  type ExpertEpochScore,
  type ScoreEpochInput,
  scoreEpoch,
} from "./score-epoch.ts";
