import { DIGIT_CLASSES, DIGIT_PIXELS } from "../tasks/digits.ts";
import type { DigitDataset, DigitSplit } from "../tasks/digits-data.ts";
import { deriveSeed, mulberry32 } from "../tasks/prng.ts";
import { initMlp, type Mlp, roundToFloat32 } from "./train/mlp.ts";
import { trainMlp } from "./train/train.ts";

/**
 * The demo's digit experts (MODELS.md section 4): honest specialists (by class range and by feature subset), a weak
 * generalist, a copy, an adversary and a noise source, so that the validator's Shapley scoring has every kind of
 * miner to tell apart and routing has specialists to choose between.
 */
export type DigitExpertRecipe =
  | {
      kind: "train";
      id: string;
      description: string;
      /** Layer sizes, input first. */
      sizes: number[];
      /** Which expert-training rows (already shuffled) it learns from. */
      rows(split: DigitSplit, data: DigitDataset): number[];
      /** Label it is taught for a true digit (identity for honest experts). */
      target(digit: number): number;
      /** Pixels it may see; the others are zeroed in training and get zero weights, so it ignores them. */
      sees(pixel: number): boolean;
      epochs: number;
      batchSize: number;
      learningRate: number;
    }
  | { kind: "copy"; id: string; description: string; of: string }
  | { kind: "noise"; id: string; description: string; sizes: number[]; logitScale: number };

const HIDDEN = 32;
/** Digits are 28x28, row-major. */
const DIGIT_SIDE = 28;
const allPixels = (): boolean => true;
const identity = (d: number): number => d;
const withLabels = (pred: (d: number) => boolean) => (split: DigitSplit, data: DigitDataset) =>
  split.expertTrain.filter((r) => pred(data.labels[r] ?? 0));
const firstRows = (n: number) => (split: DigitSplit) => split.expertTrain.slice(0, n);
const honest = { sizes: [DIGIT_PIXELS, HIDDEN, DIGIT_CLASSES], epochs: 3, batchSize: 32, learningRate: 0.003 };

export const DIGIT_EXPERT_RECIPES: readonly DigitExpertRecipe[] = [
  {
    kind: "train",
    id: "spec04",
    description: "specialist trained on digits 0-4 only",
    ...honest,
    rows: withLabels((d) => d <= 4),
    target: identity,
    sees: allPixels,
  },
  {
    kind: "train",
    id: "spec59",
    description: "specialist trained on digits 5-9 only",
    ...honest,
    rows: withLabels((d) => d >= 5),
    target: identity,
    sees: allPixels,
  },
  {
    kind: "train",
    id: "weak-generalist",
    description: "generalist trained on only 100 examples",
    sizes: [DIGIT_PIXELS, 16, DIGIT_CLASSES],
    rows: firstRows(100),
    target: identity,
    sees: allPixels,
    epochs: 40,
    batchSize: 10,
    learningRate: 0.003,
  },
  {
    kind: "copy",
    id: "copy04",
    description: "byte-identical copy of spec04 (a miner re-serving another's weights)",
    of: "spec04",
  },
  {
    kind: "train",
    id: "adversarial",
    description: "trained on (digit + 3) mod 10: confidently wrong",
    ...honest,
    rows: firstRows(3000),
    target: (d) => (d + 3) % DIGIT_CLASSES,
    sees: allPixels,
  },
  {
    kind: "noise",
    id: "noise",
    description: "random weights: input-dependent pseudo-random probabilities",
    sizes: [DIGIT_PIXELS, HIDDEN, DIGIT_CLASSES],
    logitScale: 6,
  },
  // Two more honest specialists that differ from the others by feature subset: each knows a few digits from half an
  // image, and is confidently wrong on the rest, as spec04 and spec59 are outside their range. So a plain average of
  // all experts stays weak (it gets 5, 8 and 9 mostly wrong) while a router that sends each digit to experts that
  // know it does well. Half-image generalists (about 0.82 alone) carried the plain average instead. The class groups
  // cut across 0-4 / 5-9, which gives the router a second good choice for most digits. With the straight-stroke
  // digits 1, 4, 7, 9 as one group the noise expert's Shapley value stays at or below 0; with two even-digit
  // experts the plain average was wrong so often that random answers gained value (the validator's game is the
  // plain average).
  {
    kind: "train",
    id: "top-even",
    description: "specialist on the even digits 0, 2, 4, 6, 8 that sees only the top 14 pixel rows",
    ...honest,
    rows: withLabels((d) => d % 2 === 0),
    target: identity,
    sees: (p) => p < DIGIT_PIXELS / 2,
  },
  {
    kind: "train",
    id: "right-1479",
    description: "specialist on the straight-stroke digits 1, 4, 7, 9 that sees only the right 14 pixel columns",
    ...honest,
    rows: withLabels((d) => d === 1 || d === 4 || d === 7 || d === 9),
    target: identity,
    sees: (p) => p % DIGIT_SIDE >= DIGIT_SIDE / 2,
  },
];

/** Makes the weights of one trained or noise recipe (copies reuse their original's file). */
export function makeDigitExpertModel(
  recipe: Exclude<DigitExpertRecipe, { kind: "copy" }>,
  data: DigitDataset,
  split: DigitSplit,
  seed: number,
): Mlp {
  const rng = mulberry32(deriveSeed(seed, `init-${recipe.id}`));
  const mlp = initMlp(recipe.sizes, rng);
  if (recipe.kind === "noise") {
    // Larger logits make the random answers confident (far from uniform), which is what a noisy miner looks like.
    const last = mlp.layers[mlp.layers.length - 1];
    if (last)
      for (let i = 0; i < last.weights.length; i++) last.weights[i] = (last.weights[i] ?? 0) * recipe.logitScale;
    return roundToFloat32(mlp);
  }
  const first = mlp.layers[0];
  const mask = Array.from({ length: DIGIT_PIXELS }, (_, p) => recipe.sees(p));
  if (first) {
    mask.forEach((seen, p) => {
      if (!seen) first.weights.fill(0, p * first.outputs, (p + 1) * first.outputs);
    });
  }
  const seesAll = mask.every(Boolean);
  const rows = recipe.rows(split, data);
  trainMlp(
    mlp,
    {
      size: rows.length,
      input: (k) => {
        const row = rows[k] ?? 0;
        const x = data.pixels.subarray(row * DIGIT_PIXELS, (row + 1) * DIGIT_PIXELS);
        return seesAll ? x : Float64Array.from(x, (v, p) => (mask[p] ? v : 0));
      },
      label: (k) => recipe.target(data.labels[rows[k] ?? 0] ?? 0),
    },
    {
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      learningRate: recipe.learningRate,
      seed: deriveSeed(seed, `order-${recipe.id}`),
    },
  );
  return roundToFloat32(mlp);
}
