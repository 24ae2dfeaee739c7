import { z } from "zod";
import { base64ToBytes } from "./base64.ts";
import { weightedAverage } from "./combine.ts";
import type { MediaDecoders } from "./decoders.ts";
import { classificationQuality } from "./metrics.ts";
import type { ModelContract, TaskDefinition } from "./task.ts";

export const DIGIT_PIXELS = 784;
export const DIGIT_CLASSES = 10;
/** Micro-credits per expert answer. */
export const DIGITS_PRICE = 1000;
/** A 28x28 PNG is a few hundred bytes; this bound lets larger pictures through for resizing but stops abuse. */
const MAX_PNG_BASE64 = 2_000_000;

const Pixels = z.array(z.number().min(0).max(1)).length(DIGIT_PIXELS);

export const DigitsInput = z.union([
  z.strictObject({ pixels: Pixels }),
  z.strictObject({ png: z.base64().min(1).max(MAX_PNG_BASE64) }),
]);
export type DigitsInput = z.infer<typeof DigitsInput>;

/** What the workers get: 784 floats in [0,1], row-major 28x28. */
export const DigitsJobInput = Pixels;
export type DigitsJobInput = z.infer<typeof DigitsJobInput>;

export const DigitsOutput = z.strictObject({ probs: z.array(z.number().min(0).max(1)).length(DIGIT_CLASSES) });
export type DigitsOutput = z.infer<typeof DigitsOutput>;

export const DigitLabel = z
  .number()
  .int()
  .min(0)
  .max(DIGIT_CLASSES - 1);
export type DigitLabel = z.infer<typeof DigitLabel>;

/** Tensor contract of every digit model: `x` float32[batch,784] -> `probs` float32[batch,10]. */
export const DIGITS_MODEL_CONTRACT: ModelContract = {
  inputs: [{ name: "x", type: "float32", dims: [null, DIGIT_PIXELS] }],
  outputs: [{ name: "probs", type: "float32", dims: [null, DIGIT_CLASSES] }],
};

export type DigitsTask = TaskDefinition<DigitsInput, DigitsJobInput, DigitsOutput, DigitLabel>;

export function createDigitsTask(decoders: Pick<MediaDecoders, "decodeDigitPng">): DigitsTask {
  return {
    id: "digits",
    description: "Handwritten digit recognition: 28x28 grayscale image -> probabilities of 0..9.",
    inputSchema: DigitsInput,
    jobInputSchema: DigitsJobInput,
    outputSchema: DigitsOutput,
    labelSchema: DigitLabel,
    runner: "classifier",
    pricePerAnswer: DIGITS_PRICE,
    modelContract: DIGITS_MODEL_CONTRACT,
    normalize(input) {
      if ("pixels" in input) return { ok: true, value: [...input.pixels] };
      try {
        const decoded = Pixels.safeParse(decoders.decodeDigitPng(base64ToBytes(input.png)));
        if (!decoded.success) return { ok: false, error: "png: decoder returned an invalid image" };
        return { ok: true, value: decoded.data };
      } catch (error) {
        return { ok: false, error: `png: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
    combine(outputs, gates) {
      if (outputs.length === 0) return uniformDigits();
      return {
        probs: weightedAverage(
          outputs.map((o) => o.probs),
          gates,
        ),
      };
    },
    uniformPrior: () => uniformDigits(),
    quality: (output, label) => classificationQuality(output.probs, label),
    routerFeatures: (input) => [...input],
  };
}

function uniformDigits(): DigitsOutput {
  return { probs: new Array<number>(DIGIT_CLASSES).fill(1 / DIGIT_CLASSES) };
}
