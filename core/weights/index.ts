export { convertWeightsAndUidsForEmit, type U16Weights } from "./emit.ts";
export { NORMALIZE_EPSILON, normalizeMaxWeight } from "./normalize-max-weight.ts";
export {
  numpyQuantile,
  type ProcessedWeights,
  type ProcessWeightsInput,
  processWeights,
  U16_MAX,
} from "./process-weights.ts";
export { blocksUntilWeightsAllowed } from "./rate-limit.ts";
export { roundHalfEven } from "./round-half-even.ts";
export { combineTaskScores, floorScores, type TaskScore } from "./scores-to-weights.ts";
