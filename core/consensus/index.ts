export { runEpoch } from "./epoch.ts";
export { runEpochFloat } from "./epoch-float.ts";
export { formatOutputs, runScenario, runScenarioText, scenarioSchema, toEpochInput } from "./scenario.ts";
export type { EpochInput, EpochOutput, SparseRow } from "./types.ts";
