export { gateForward, initGate } from "./gate-network.ts";
export {
  GATE_VERSION,
  type GateParams,
  GateParamsJson,
  type ParsedGate,
  parseGate,
  serializeGate,
} from "./gate-params.ts";
export {
  createRouter,
  priorFromScores,
  type RouteContext,
  type Routed,
  type Router,
  type RouterOptions,
  type RouterSetup,
} from "./router.ts";
export { selectTopK } from "./select-top-k.ts";
export {
  type GateTrainingData,
  type GateTrainingOptions,
  softTargets,
  type TrainedGate,
  trainGate,
} from "./train-gate.ts";
