import { mulberry32, type Prng } from "../../tasks/prng.ts";
import type { ExpertOutputs } from "../expert-outputs.ts";

/**
 * Synthetic digit experts for tests and benchmarks: probability tables with the behaviour of MODELS.md's demo
 * experts, without training anything. Ten classes; labels uniform.
 */
export type SyntheticKind = "spec04" | "spec59" | "weakGeneralist" | "adversarial" | "noise";

export interface SyntheticDigits {
  readonly outputs: ExpertOutputs;
  readonly labels: Int32Array;
}

const CLASSES = 10;

/** One expert's answers: `items * 10` probabilities, expert-major like ExpertOutputs. */
export function syntheticAnswers(kind: SyntheticKind, labels: Int32Array, rng: Prng): Float64Array {
  const out = new Float64Array(labels.length * CLASSES);
  labels.forEach((label, i) => {
    const row = out.subarray(i * CLASSES, (i + 1) * CLASSES);
    switch (kind) {
      case "spec04":
      case "spec59": {
        const lo = kind === "spec04" ? 0 : 5;
        const knows = label >= lo && label < lo + 5;
        // A specialist only ever names its own five digits; it is right 90% of the time on them.
        const guess = knows && rng.next() < 0.9 ? label : lo + rng.int(5);
        const confidence = knows ? 0.85 : 0.6;
        for (let c = lo; c < lo + 5; c++) row[c] = c === guess ? confidence : (1 - confidence) / 4;
        break;
      }
      case "weakGeneralist": {
        const guess = rng.next() < 0.6 ? label : rng.int(CLASSES);
        for (let c = 0; c < CLASSES; c++) row[c] = c === guess ? 0.4 : 0.6 / 9;
        break;
      }
      case "adversarial": {
        const wrong = (label + 3) % CLASSES;
        for (let c = 0; c < CLASSES; c++) row[c] = c === wrong ? 0.9 : 0.1 / 9;
        break;
      }
      case "noise": {
        let sum = 0;
        for (let c = 0; c < CLASSES; c++) {
          row[c] = rng.next();
          sum += row[c] ?? 0;
        }
        for (let c = 0; c < CLASSES; c++) row[c] = (row[c] ?? 0) / sum;
        break;
      }
    }
  });
  return out;
}

/**
 * A table of experts over `items` labelled digits. A kind of the form `copy:<index>` repeats an earlier expert's
 * answers exactly (a miner re-serving someone else's model).
 */
export function syntheticDigits(kinds: readonly (SyntheticKind | `copy:${number}`)[], items: number, seed: number) {
  const rng = mulberry32(seed);
  const labels = new Int32Array(items);
  for (let i = 0; i < items; i++) labels[i] = rng.int(CLASSES);
  const width = items * CLASSES;
  const probs = new Float64Array(kinds.length * width);
  kinds.forEach((kind, e) => {
    if (kind.startsWith("copy:")) {
      const source = Number(kind.slice(5));
      probs.copyWithin(e * width, source * width, (source + 1) * width);
    } else {
      probs.set(syntheticAnswers(kind as SyntheticKind, labels, rng), e * width);
    }
  });
  const result: SyntheticDigits = { outputs: { experts: kinds.length, items, classes: CLASSES, probs }, labels };
  return result;
}
