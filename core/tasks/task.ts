import type { z } from "zod";
import type { ExpertManifest, TensorSpec } from "../experts/manifest.ts";
import type { Quality } from "./metrics.ts";

/** Result of turning a validated API input into the job input the workers get; never throws. */
export type Normalized<J> = { ok: true; value: J } | { ok: false; error: string };

/** Names and shapes a model must expose to serve a task (`null` = dynamic dimension). */
export interface ModelContract {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * One task of the market. `Input` is what clients POST (API-facing), `JobInput` what travels on the queue to the
 * workers (already normalised), `Output` what an expert answers, `Label` the known truth of a validation item.
 * Methods (not function properties) on purpose: TypeScript then lets a concrete task be stored as `AnyTask`.
 */
export interface TaskDefinition<Input, JobInput, Output, Label> {
  readonly id: string;
  readonly description: string;
  readonly inputSchema: z.ZodType<Input>;
  readonly jobInputSchema: z.ZodType<JobInput>;
  readonly outputSchema: z.ZodType<Output>;
  readonly labelSchema: z.ZodType<Label>;
  /** How the runtime adapter feeds this task's models. */
  readonly runner: ExpertManifest["runner"];
  /** Price of one expert answer, in micro-credits. */
  readonly pricePerAnswer: number;
  /** The tensor contract a user-supplied model must meet (`experts add`); undefined when models are not pluggable. */
  readonly modelContract: ModelContract | undefined;
  normalize(input: Input): Normalized<JobInput>;
  /** Gate-weighted average of the experts' probabilities (gates renormalised). */
  combine(outputs: readonly Output[], gates: readonly number[]): Output;
  /** The answer that carries no information (what an absent expert "says" in the validator's games). */
  uniformPrior(input: JobInput): Output;
  quality(output: Output, label: Label): Quality;
  /** Fixed-length numeric features of a job input, for the router's gate. */
  routerFeatures(input: JobInput): number[];
}

/** The erased form the registry stores; callers parse unknown data with the task's schemas before using it. */
export type AnyTask = TaskDefinition<unknown, unknown, unknown, unknown>;
