import type { DigitLabel, DigitsJobInput } from "../../core/tasks/digits.ts";
import {
  type DigitDataset,
  type DigitSplit,
  digitValidationSource,
  splitDigits,
} from "../../core/tasks/digits-data.ts";
import type { SpeechJobInput, SpeechLabel } from "../../core/tasks/speech.ts";
import { speechValidationSource } from "../../core/tasks/speech-data.ts";
import type { ValidationSource } from "../../core/tasks/validation.ts";
import { DEFAULT_EXPERT_SEED } from "./digit-experts-builder.ts";
import { loadMnist } from "./mnist-loader.ts";
import { loadSpeechRecording } from "./speech-validation.ts";

export interface ValidationSources {
  digits: ValidationSource<DigitsJobInput, DigitLabel>;
  speech: ValidationSource<SpeechJobInput, SpeechLabel>;
  /** The digit data and split, for the router's training rows (`split.routerTrain`). */
  digitData: DigitDataset;
  digitSplit: DigitSplit;
}

/** Hidden validation sources of both tasks; `seed` must be the one the digit experts were built with. */
export async function loadValidationSources(seed: number = DEFAULT_EXPERT_SEED): Promise<ValidationSources> {
  const [digitData, recording] = await Promise.all([loadMnist(), loadSpeechRecording()]);
  const digitSplit = splitDigits(digitData.labels.length, seed);
  return {
    digits: digitValidationSource(digitData, digitSplit.hidden),
    speech: speechValidationSource(recording),
    digitData,
    digitSplit,
  };
}
