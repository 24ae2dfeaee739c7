import type { ExpertManifest } from "../experts/manifest.ts";

/** A loaded model ready to answer. Inputs and outputs are the task's normalised shapes (core/tasks). */
export interface ExpertModel {
  readonly manifest: ExpertManifest;
  /** Execution provider actually in use. */
  readonly provider: "cuda" | "cpu";
  /** Runs one batch in as few inference calls as the model allows; output i answers input i. */
  runBatch(inputs: readonly unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}

/** ExpertRuntime port: loads a model after checking its sha256 against the manifest, and warms it up. */
export interface ExpertRuntime {
  load(manifest: ExpertManifest): Promise<ExpertModel>;
}
