import { DIGIT_PIXELS, type DigitLabel, type DigitsJobInput } from "./digits.ts";
import { deriveSeed, mulberry32, shuffledIndices } from "./prng.ts";
import type { ValidationSource } from "./validation.ts";

/** Labelled digits in one flat buffer: row i is pixels[i*784 .. (i+1)*784). */
export interface DigitDataset {
  pixels: Float32Array;
  labels: Uint8Array;
}

export interface DigitSplit {
  /** Rows the experts may train on. */
  expertTrain: number[];
  /** Rows for the router's gate (never seen by experts). */
  routerTrain: number[];
  /** Hidden validation rows: seen by no trainer. */
  hidden: number[];
}

export const DEFAULT_SPLIT_SIZES = { hidden: 2000, routerTrain: 2000 } as const;

/**
 * Seeded three-way split of row indices. The hidden set is cut first from one shuffle, so it is disjoint from both
 * training sets by construction (and the tests check it).
 */
export function splitDigits(
  count: number,
  seed: number,
  sizes: { hidden: number; routerTrain: number } = DEFAULT_SPLIT_SIZES,
): DigitSplit {
  if (sizes.hidden + sizes.routerTrain >= count)
    throw new Error(`split needs more than ${sizes.hidden + sizes.routerTrain} rows, got ${count}`);
  const order = shuffledIndices(count, mulberry32(deriveSeed(seed, "digits-split")));
  return {
    hidden: order.slice(0, sizes.hidden),
    routerTrain: order.slice(sizes.hidden, sizes.hidden + sizes.routerTrain),
    expertTrain: order.slice(sizes.hidden + sizes.routerTrain),
  };
}

export function digitRow(data: DigitDataset, row: number): number[] {
  return Array.from(data.pixels.subarray(row * DIGIT_PIXELS, (row + 1) * DIGIT_PIXELS));
}

/** Validation source over the hidden rows: each epoch's seed picks its own sample (without replacement). */
export function digitValidationSource(
  data: DigitDataset,
  hidden: readonly number[],
): ValidationSource<DigitsJobInput, DigitLabel> {
  return {
    task: "digits",
    size: hidden.length,
    sample(count, seed) {
      const order = shuffledIndices(hidden.length, mulberry32(deriveSeed(seed, "digits-validation")));
      return order.slice(0, Math.min(count, hidden.length)).map((k) => {
        const row = hidden[k] as number;
        return { id: `digits-${row}`, input: digitRow(data, row), label: data.labels[row] ?? 0 };
      });
    },
  };
}
