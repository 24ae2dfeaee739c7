export { gateForward, initGate } from "./gate-network.ts";
export {
  base64ToFloat32,
  float32ToBase64,
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
export { parseStoredGate, type StoredRouterJson, storedRouter } from "./stored-gate.ts";
export {
  type GateTrainingData,
  type GateTrainingOptions,
  softTargets,
  type TrainedGate,
  trainGate,
  trainGateSteps,
} from "./train-gate.ts";
