import { type GateParams, trainGate } from "../routing/index.ts";
import { scoreEpoch } from "../scoring/index.ts";
import { DIGIT_CLASSES, DIGIT_PIXELS } from "../tasks/digits.ts";
import type { DigitDataset } from "../tasks/digits-data.ts";
import { deriveSeed } from "../tasks/prng.ts";

/** One built expert, in registration order (a copy after the expert it copies, as on chain). */
export interface GateCandidate {
  readonly id: string;
  readonly hotkey: string;
  /** sha256 of the served model: equal hashes are copies whatever the outputs. */
  readonly modelHash: string;
  /** The expert's probabilities for one digit (the same weights the served ONNX file holds). */
  predict(pixels: ArrayLike<number>): ArrayLike<number>;
}

export interface InitialExpertScore {
  readonly id: string;
  readonly hotkey: string;
  /** Shapley value (accuracy game, as the validator plays it) on the router rows. */
  readonly shapley: number;
  /** id of the expert this one copies, or null. */
  readonly copyOf: string | null;
  /** Admitted to the gate: a positive value and not a copy. Only admitted experts may get paid queries at first. */
  readonly admitted: boolean;
}

export interface InitialDigitGate {
  /** The gate over the admitted experts; its expertUids are indexes into `experts` until the chain assigns uids. */
  readonly gate: GateParams;
  readonly experts: readonly InitialExpertScore[];
  /** Every expert's expected error (1 - p(truth)) per router row (admitted or not), in `experts` order. */
  readonly losses: readonly Float32Array[];
  readonly rows: number;
}

export interface InitialGateOptions {
  readonly seed: number;
  readonly hidden?: number;
  readonly epochs?: number;
}

/**
 * The gate the market opens with, trained before the API serves a query: the experts answer the router-training rows
 * (never the hidden ones), the validator's own game (exact Shapley, copies collapsed) decides who is admitted, and
 * the gate learns from the admitted experts' losses which of them to ask for each input (core/routing trainGate).
 * So from the first paid query the copy, the adversary and the noise source get nothing, and the gate already
 * knows which half of the digits each specialist covers; every epoch the validator then retrains it with more data.
 */
export function trainInitialDigitGate(
  candidates: readonly GateCandidate[],
  data: DigitDataset,
  rows: readonly number[],
  options: InitialGateOptions,
): InitialDigitGate {
  const items = rows.length;
  const experts = candidates.length;
  const inputs = new Float32Array(items * DIGIT_PIXELS);
  const labels = new Int32Array(items);
  rows.forEach((row, i) => {
    inputs.set(data.pixels.subarray(row * DIGIT_PIXELS, (row + 1) * DIGIT_PIXELS), i * DIGIT_PIXELS);
    labels[i] = data.labels[row] ?? 0;
  });
  const probs = new Float64Array(experts * items * DIGIT_CLASSES);
  const losses = candidates.map(() => new Float32Array(items));
  candidates.forEach((candidate, e) => {
    const column = losses[e] ?? new Float32Array(items);
    for (let i = 0; i < items; i++) {
      const p = candidate.predict(inputs.subarray(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS));
      for (let c = 0; c < DIGIT_CLASSES; c++) probs[(e * items + i) * DIGIT_CLASSES + c] = p[c] ?? 0;
      // Expected error, as the validator stores it (functions/validator/router-data.ts itemLosses).
      column[i] = 1 - (p[labels[i] ?? 0] ?? 0);
    }
  });
  const scoring = scoreEpoch({
    experts: candidates.map((c, e) => ({ uid: e, hotkey: c.hotkey, modelHash: c.modelHash, registrationBlock: e })),
    outputs: { experts, items, classes: DIGIT_CLASSES, probs },
    labels,
    metric: "accuracy",
  });
  const scores: InitialExpertScore[] = candidates.map((c, e) => {
    const row = scoring.rows[e];
    const shapley = row?.shapley ?? 0;
    const copyOf = row?.copyOf ?? null;
    return {
      id: c.id,
      hotkey: c.hotkey,
      shapley,
      copyOf: copyOf === null ? null : (candidates[copyOf]?.id ?? null),
      admitted: copyOf === null && shapley > 0,
    };
  });
  const admitted = scores.flatMap((s, e) => (s.admitted ? [e] : []));
  const gateLosses = new Float32Array(items * admitted.length);
  for (let i = 0; i < items; i++) {
    admitted.forEach((e, a) => {
      gateLosses[i * admitted.length + a] = losses[e]?.[i] ?? Number.NaN;
    });
  }
  const likelihoods = Float32Array.from(gateLosses, (l) => 1 - l);
  const trained = trainGate(
    { items, inputSize: DIGIT_PIXELS, inputs, expertUids: admitted, losses: gateLosses, likelihoods },
    {
      seed: deriveSeed(options.seed, "initial-gate-digits"),
      ...(options.hidden === undefined ? {} : { hidden: options.hidden }),
      epochs: options.epochs ?? 30,
    },
  );
  return { gate: trained.params, experts: scores, losses, rows: items };
}
