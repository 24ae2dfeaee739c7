import { type DuplicateOptions, type ExpertRegistration, groupDuplicates } from "./duplicates.ts";
import { createEnsembleGame, type GameVariant } from "./ensemble-game.ts";
import { exactShapley } from "./exact-shapley.ts";
import { checkLabels, cleanOutputs, type ExpertOutputs, ScoringInputError } from "./expert-outputs.ts";
import { mixtureQuality, type QualityMetric } from "./quality.ts";
import { type SampledShapleyOptions, sampledShapley } from "./sampled-shapley.ts";

/** Exact Shapley up to this many players (2^14 coalitions); permutation sampling above. */
export const DEFAULT_EXACT_MAX_PLAYERS = 14;

export interface EpochExpert extends ExpertRegistration {
  readonly uid: number;
  readonly hotkey: string;
}

export interface ScoreEpochInput {
  /** experts[e] describes expert e of `outputs`. */
  readonly experts: readonly EpochExpert[];
  readonly outputs: ExpertOutputs;
  readonly labels: ArrayLike<number>;
  readonly gates?: ArrayLike<number>;
  /** Default "brier" (1 - Brier/2). */
  readonly metric?: QualityMetric;
  readonly variant?: GameVariant;
  /** Copy detection thresholds; `false` scores every expert as its own player (for comparison only). */
  readonly duplicates?: DuplicateOptions | false;
  readonly exactMaxPlayers?: number;
  /** Permutation sampling settings when there are more players than exactMaxPlayers; seed defaults to 0. */
  readonly sampling?: Partial<SampledShapleyOptions>;
}

export interface ExpertEpochScore {
  readonly uid: number;
  readonly hotkey: string;
  /** Shapley value in quality units (can be negative: the expert made the ensemble worse). 0 for a copy. */
  readonly shapley: number;
  /** 0 when exact. */
  readonly standardError: number;
  /** uid of the first-registered member of this expert's copy group, when this expert is a later copy. */
  readonly copyOf: number | null;
  /** Solo accuracy (ties share credit) and Brier score over all items, a missing answer counting as the uniform prior. */
  readonly accuracy: number;
  readonly brier: number;
  readonly answered: number;
  readonly items: number;
}

export interface EpochScoring {
  readonly rows: readonly ExpertEpochScore[];
  readonly method: "exact" | "sampled";
  readonly players: number;
  readonly permutations: number;
  readonly vEmpty: number;
  readonly vAll: number;
}

/**
 * Shapley value of every expert over one epoch's hidden items, copy-resistant.
 *
 * Copies (same model hash, or near-identical outputs) collapse into one player whose answers are the first-registered
 * member's. That member gets the player's whole value and later copies get 0. Splitting the value instead would
 * still pay a copier (and in submodular games k copies together earn more than one, PROTOCOL.md section 6), while
 * "first registered" is provable from chain data (BlockAtRegistration, then uid) and cannot be gamed after the fact.
 * Because copies leave the game, the original earns exactly what it would have earned had the copies never existed.
 * The group plays with its representative's answers and gates.
 */
export function scoreEpoch(input: ScoreEpochInput): EpochScoring {
  const { outputs, experts } = input;
  const clean = cleanOutputs(outputs);
  if (experts.length !== clean.experts) {
    throw new ScoringInputError(`${experts.length} expert records for ${clean.experts} experts of outputs`);
  }
  const metric = input.metric ?? "brier";
  const groups =
    input.duplicates === false
      ? experts.map((_, e) => ({ representative: e, members: [e] }))
      : groupDuplicates(clean, experts, input.duplicates ?? {});
  const players = groups.map((g) => g.representative);
  const game = createEnsembleGame({
    outputs: clean,
    labels: input.labels,
    gates: input.gates,
    metric,
    variant: input.variant,
    players,
  });
  const exactMax = input.exactMaxPlayers ?? DEFAULT_EXACT_MAX_PLAYERS;
  const sampled = players.length > exactMax;
  const estimate = sampled ? sampledShapley(game, { seed: 0, ...input.sampling }) : null;
  const result = estimate ?? exactShapley(game);
  const errors = estimate?.standardErrors ?? new Float64Array(players.length);

  const shapley = new Float64Array(clean.experts);
  const standardError = new Float64Array(clean.experts);
  const copyOf: (number | null)[] = experts.map(() => null);
  groups.forEach((group, k) => {
    shapley[group.representative] = result.values[k] ?? 0;
    standardError[group.representative] = errors[k] ?? 0;
    for (const member of group.members) {
      if (member !== group.representative) copyOf[member] = experts[group.representative]?.uid ?? null;
    }
  });

  const labels = checkLabels(input.labels, clean.items, clean.classes);
  const rows = experts.map((expert, e): ExpertEpochScore => {
    const solo = soloQuality(clean.probs, e, clean.items, clean.classes, labels);
    let answered = 0;
    for (let i = 0; i < clean.items; i++) answered += clean.answered[e * clean.items + i] ?? 0;
    return {
      uid: expert.uid,
      hotkey: expert.hotkey,
      shapley: shapley[e] ?? 0,
      standardError: standardError[e] ?? 0,
      copyOf: copyOf[e] ?? null,
      accuracy: solo.accuracy,
      brier: solo.brier,
      answered,
      items: clean.items,
    };
  });
  return {
    rows,
    method: sampled ? "sampled" : "exact",
    players: players.length,
    permutations: estimate?.permutations ?? 0,
    vEmpty: result.vEmpty,
    vAll: result.vAll,
  };
}

function soloQuality(
  probs: Float64Array,
  e: number,
  items: number,
  classes: number,
  labels: Int32Array,
): { accuracy: number; brier: number } {
  if (items === 0) return { accuracy: 0, brier: 0 };
  let accuracy = 0;
  let brier = 0;
  for (let i = 0; i < items; i++) {
    const offset = (e * items + i) * classes;
    const y = labels[i] ?? 0;
    accuracy += mixtureQuality("accuracy", probs, offset, classes, 1, y);
    brier -= mixtureQuality("neg-brier", probs, offset, classes, 1, y);
  }
  return { accuracy: accuracy / items, brier: brier / items };
}
