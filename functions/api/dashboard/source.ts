import type { Metagraph } from "../../../core/ports/chain.ts";
import type { ScoreStore } from "../../../core/ports/scores.ts";

/** A served expert's public label (the manifest's id) and task, by hotkey. */
export interface ExpertLabel {
  readonly name: string;
  readonly task: string;
}

/**
 * What the dashboard reads beyond the API's own ports: the whole metagraph (stake, emission, dividends, trust and
 * every weight row, which the expert directory narrows away), the validator's per-epoch records and the experts'
 * names. Absent from ApiDeps: `/` and `/v1/dashboard/*` answer 404.
 */
export interface DashboardSource {
  readonly netuid: number;
  metagraph(): Promise<Metagraph>;
  readonly scores: ScoreStore;
  labels(): Promise<ReadonlyMap<string, ExpertLabel>>;
  /** The folder holding the Vite build (web/dist): its files are served under /assets/. */
  readonly assetsDir: string;
}
