// Speech job inputs for the worker benchmark and tests: real 5 s windows of data/speech/clean.wav, each at a drawn
// SNR with fresh noise (the validator's own sampler), as the `{pcm16}` inputs that travel on the queue.
import { loadSpeechRecording } from "../../adapters/runtime/speech-validation.ts";
import type { SpeechJobInput } from "../../core/tasks/speech.ts";
import { speechValidationSource } from "../../core/tasks/speech-data.ts";

/** `count` distinct clips drawn from `seed` (deterministic). */
export async function speechClipInputs(count: number, seed = 1): Promise<SpeechJobInput[]> {
  const source = speechValidationSource(await loadSpeechRecording());
  return source.sample(count, seed).map((item) => item.input);
}
