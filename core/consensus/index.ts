export { type BondsCsr, bondsCsrToRows, type EpochOutputCsr, runEpoch, runEpochCsr } from "./epoch.ts";
export { runEpochFloat } from "./epoch-float.ts";
export { formatOutputs, runScenario, runScenarioText, scenarioSchema, toEpochInput } from "./scenario.ts";
export { releaseEpochScratch } from "./scratch.ts";
export type { EpochInput, EpochOutput, SparseRow } from "./types.ts";
