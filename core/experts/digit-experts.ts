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
      /**
       * Digits outside its competence that it is also shown, with a uniform target: it learns to abstain (answer
       * near-uniform) on them instead of naming one of its own digits with confidence, so that a combination can
       * tell an expert that knows from one that does not. Omitted: it sees only its own rows.
       */
      abstainOn?(digit: number): boolean;
      /** Extra copies of every training row moved by these (dx, dy) pixel offsets (augmentation). */
      shifts?: readonly (readonly [number, number])[];
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
/**
 * The specialists (issue 16): twice the hidden units, every row also seen moved by one pixel each way, and the
 * digits outside their competence shown with a uniform target so that they abstain there instead of naming one of
 * their own digits. Measured on the 2,000 hidden digits: within their own digits 0.96 / 0.943 (spec04 / spec59,
 * the old 784-32-10, 3 epochs) -> 0.97+; the plain average of spec04 and spec59 alone is then 0.96, because one of
 * them knows the digit and the other stays near uniform. The old confidently-wrong specialists left routed answers
 * at 0.92 whatever the gate did: a gate tells 0-4 from 5-9 only about 95% of the time, and each mistake was final.
 */
const specialist: { sizes: number[]; epochs: number; batchSize: number; learningRate: number } & {
  shifts: readonly (readonly [number, number])[];
} = {
  sizes: [DIGIT_PIXELS, 2 * HIDDEN, DIGIT_CLASSES],
  epochs: 4,
  batchSize: 32,
  learningRate: 0.002,
  shifts: [
    [1, 0],
    [-1, 0],
    [0, 1],
    [0, -1],
  ],
};

export const DIGIT_EXPERT_RECIPES: readonly DigitExpertRecipe[] = [
  {
    kind: "train",
    id: "spec04",
    description: "specialist on digits 0-4 that abstains (answers near-uniform) on 5-9",
    ...specialist,
    rows: withLabels((d) => d <= 4),
    abstainOn: (d) => d >= 5,
    target: identity,
    sees: allPixels,
  },
  {
    kind: "train",
    id: "spec59",
    description: "specialist on digits 5-9 that abstains (answers near-uniform) on 0-4",
    ...specialist,
    rows: withLabels((d) => d >= 5),
    abstainOn: (d) => d <= 4,
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
    ...specialist,
    rows: withLabels((d) => d % 2 === 0),
    abstainOn: (d) => d % 2 === 1,
    target: identity,
    sees: (p) => p < DIGIT_PIXELS / 2,
  },
  {
    kind: "train",
    id: "right-1479",
    description: "specialist on the straight-stroke digits 1, 4, 7, 9 that sees only the right 14 pixel columns",
    ...specialist,
    rows: withLabels((d) => d === 1 || d === 4 || d === 7 || d === 9),
    abstainOn: (d) => !(d === 1 || d === 4 || d === 7 || d === 9),
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
  const own = recipe.rows(split, data);
  const abstainOn = recipe.abstainOn;
  const ownSet = new Set(own);
  const outside =
    abstainOn === undefined ? [] : split.expertTrain.filter((r) => abstainOn(data.labels[r] ?? 0) && !ownSet.has(r));
  const rows = [...own, ...outside];
  const shifts: readonly (readonly [number, number])[] = [[0, 0], ...(recipe.shifts ?? [])];
  // Example k is row k mod n moved by shift floor(k / n).
  const n = rows.length;
  // The trainer copies each input before asking for the next, so one shifted and one masked buffer serve them all.
  const shifted = new Float32Array(DIGIT_PIXELS);
  const masked = new Float64Array(DIGIT_PIXELS);
  trainMlp(
    mlp,
    {
      size: n * shifts.length,
      input: (k) => {
        const row = rows[k % n] ?? 0;
        const [dx, dy] = shifts[Math.floor(k / n)] ?? [0, 0];
        const pixels = data.pixels.subarray(row * DIGIT_PIXELS, (row + 1) * DIGIT_PIXELS);
        const x = dx === 0 && dy === 0 ? pixels : shiftDigitInto(pixels, dx, dy, shifted);
        if (seesAll) return x;
        for (let p = 0; p < DIGIT_PIXELS; p++) masked[p] = mask[p] ? (x[p] as number) : 0;
        return masked;
      },
      label: (k) => recipe.target(data.labels[rows[k % n] ?? 0] ?? 0),
      abstain: (k) => k % n >= own.length,
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

/** A 28x28 digit moved by (dx, dy) pixels (right and down positive); what moves in from outside is background (0). */
export function shiftDigit(pixels: ArrayLike<number>, dx: number, dy: number): Float32Array {
  return shiftDigitInto(pixels, dx, dy, new Float32Array(DIGIT_PIXELS));
}

/** `shiftDigit` into a caller's buffer (overwritten whole), for training loops that should not allocate. */
function shiftDigitInto(pixels: ArrayLike<number>, dx: number, dy: number, out: Float32Array): Float32Array {
  out.fill(0);
  for (let r = 0; r < DIGIT_SIDE; r++) {
    const from = r - dy;
    if (from < 0 || from >= DIGIT_SIDE) continue;
    for (let c = 0; c < DIGIT_SIDE; c++) {
      const col = c - dx;
      if (col >= 0 && col < DIGIT_SIDE) out[r * DIGIT_SIDE + c] = pixels[from * DIGIT_SIDE + col] ?? 0;
    }
  }
  return out;
}
