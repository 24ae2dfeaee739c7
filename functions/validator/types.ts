import type { Logger } from "../../adapters/log/logger.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import type { SignatureVerifier, Signer } from "../../core/ports/signer.ts";

/** A hidden validation item: the input every expert of the task answers, and the known truth. */
export interface ValidationItem {
  readonly input: unknown;
  readonly truth: unknown;
}

/**
 * What the validator needs of a task: hidden items drawn deterministically from a seed, and a way to turn one
 * expert answer (or its absence) into classification rows, so one Shapley game covers digits (10 classes per item)
 * and speech (one 2-class row per 32 ms frame) alike.
 */
export interface ValidationTask {
  readonly id: string;
  readonly classes: number;
  /** Quality a coalition's ensemble is judged by (never log-loss: MODELS.md). */
  readonly metric: "brier" | "accuracy";
  drawItems(seed: string, count: number): ValidationItem[];
  /** The same items, made one at a time (draw.ts yields to other work between them); absent: drawItems. */
  drawItemsOneByOne?(seed: string, count: number): Iterable<ValidationItem>;
  /** Class-probability rows of `output` for this item; `null` output (missing answer) gives the uniform prior rows. */
  rows(output: unknown | null, item: ValidationItem): { readonly probs: number[][]; readonly labels: number[] };
}

/** An expert the validator scores: served by the workers, registered on chain under `uid`. */
export interface ScoredExpert {
  readonly uid: number;
  readonly hotkey: string;
  readonly task: string;
  readonly modelSha256: string;
  /** Block of the on-chain commitment of this model (issue 15): copy precedence goes to the earliest. */
  readonly committedAt?: number;
}

export interface ValidatorDeps {
  readonly chain: Chain;
  readonly netuid: number;
  readonly signer: Signer;
  readonly verifier: SignatureVerifier;
  /** ss58 of the workers' serving keys: an answer signed by any other key is refused. */
  readonly workerKeys: readonly string[];
  /** Where validation jobs go: the validation queue, apart from clients' paid jobs (issue 17). */
  readonly queue: JobQueue;
  readonly jobs: JobStore;
  readonly scores: ScoreStore;
  readonly tasks: readonly ValidationTask[];
  /** Experts currently served (manifests); matched against the metagraph before scoring. */
  readonly experts: () => Promise<readonly ScoredExpert[]>;
  readonly log: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Aborted when the process stops: an epoch waiting for answers gives up at its next poll instead of its deadline. */
  readonly signal?: AbortSignal;
  readonly config: ValidatorConfig;
  /** Trains each listed task's routing gate from the epoch's answers (train-router.ts); omitted = no training. */
  readonly routerTraining?: RouterTrainingDeps;
}

/** How the validator trains the API's routing gate of one task. */
export interface RouterTrainingTask {
  /** The gate's fixed-length features of one job input (the task's `routerFeatures`). */
  features(input: unknown): readonly number[];
  /**
   * Router-training items (never hidden ones), deterministic: sent once to every expert the stored training state
   * has no answers of (all experts on the first epoch, later each newcomer), so the gate starts from real outputs.
   */
  bootstrap?(): readonly ValidationItem[];
}

export interface RouterTrainingDeps {
  readonly tasks: Readonly<Record<string, RouterTrainingTask>>;
  /** Epochs of hidden items (inputs re-drawn from their seed, losses stored) the gate keeps training on. Default 4. */
  readonly windowEpochs?: number;
  /** How long experts get to answer the bootstrap items. Default: max(answerTimeoutMs, 60 s). */
  readonly bootstrapTimeoutMs?: number;
  readonly hidden?: number;
  readonly trainingEpochs?: number;
  readonly temperature?: number;
}

export interface ValidatorConfig {
  /** Hidden items per epoch, per task (a task absent here gets `defaultItems`). */
  readonly itemsPerTask: Readonly<Record<string, number>>;
  readonly defaultItems: number;
  /** How long experts get to answer an epoch's items. */
  readonly answerTimeoutMs: number;
  /** EMA smoothing: ema = alpha * shapley + (1 - alpha) * previous. */
  readonly emaAlpha: number;
  /** Keeps the hidden items unpredictable to miners: the seed mixes the epoch with this secret. */
  readonly seedSecret: string;
}
