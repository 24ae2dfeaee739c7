import { z } from "zod";
import { base64ToBytes } from "./base64.ts";
import { weightedAverage } from "./combine.ts";
import type { MediaDecoders } from "./decoders.ts";
import { frameQuality } from "./metrics.ts";
import { FRAME_SAMPLES, frameCount, frameRmsDbfs, SPEECH_SAMPLE_RATE } from "./speech-frames.ts";
import type { TaskDefinition } from "./task.ts";

/** Micro-credits per expert answer. */
export const SPEECH_PRICE = 2000;
/** Ten seconds at 16 kHz: long enough for a query, short enough for one worker slot. */
export const MAX_SPEECH_SAMPLES = 10 * SPEECH_SAMPLE_RATE;
/** A 10 s float32 WAV is ~640 KB (~860 KB base64); leave room for headers and 48 kHz PCM16 input. */
const MAX_WAV_BASE64 = 2_000_000;

const Samples = z.array(z.number()).min(FRAME_SAMPLES).max(MAX_SPEECH_SAMPLES);

export const SpeechInput = z.union([
  z.strictObject({ samples: Samples }),
  z.strictObject({ wav: z.base64().min(1).max(MAX_WAV_BASE64) }),
]);
export type SpeechInput = z.infer<typeof SpeechInput>;

/** What the workers get: mono samples at 16 kHz in [-1, 1] (Float32-compatible). */
export const SpeechJobInput = z.array(z.number().min(-1).max(1)).min(FRAME_SAMPLES).max(MAX_SPEECH_SAMPLES);
export type SpeechJobInput = z.infer<typeof SpeechJobInput>;

/** One speech probability per 32 ms frame (512 samples). */
export const SpeechOutput = z.strictObject({ frameProbs: z.array(z.number().min(0).max(1)).max(MAX_SPEECH_SAMPLES) });
export type SpeechOutput = z.infer<typeof SpeechOutput>;

export const SpeechLabel = z.array(z.union([z.literal(0), z.literal(1)]));
export type SpeechLabel = z.infer<typeof SpeechLabel>;

export type SpeechTask = TaskDefinition<SpeechInput, SpeechJobInput, SpeechOutput, SpeechLabel>;

export function createSpeechTask(decoders: Pick<MediaDecoders, "decodeWav16k">): SpeechTask {
  return {
    id: "speech",
    description: "Voice-activity detection: 16 kHz mono audio (<= 10 s) -> speech probability per 32 ms frame.",
    inputSchema: SpeechInput,
    jobInputSchema: SpeechJobInput,
    outputSchema: SpeechOutput,
    labelSchema: SpeechLabel,
    runner: "silero-vad",
    pricePerAnswer: SPEECH_PRICE,
    // The experts are the shipped Silero models with their own (stateful) contracts, not a pluggable shape.
    modelContract: undefined,
    normalize(input) {
      let samples: number[];
      if ("samples" in input) {
        samples = input.samples;
      } else {
        try {
          samples = decoders.decodeWav16k(base64ToBytes(input.wav));
        } catch (error) {
          return { ok: false, error: `wav: ${error instanceof Error ? error.message : String(error)}` };
        }
      }
      if (samples.length < FRAME_SAMPLES)
        return { ok: false, error: `audio shorter than one frame (${FRAME_SAMPLES} samples)` };
      if (samples.length > MAX_SPEECH_SAMPLES)
        return { ok: false, error: `audio longer than ${MAX_SPEECH_SAMPLES} samples (10 s)` };
      // Clip instead of rejecting: float pipelines often overshoot full scale slightly.
      return { ok: true, value: samples.map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0)) };
    },
    combine(outputs, gates) {
      if (outputs.length === 0) return { frameProbs: [] };
      return {
        frameProbs: weightedAverage(
          outputs.map((o) => o.frameProbs),
          gates,
        ),
      };
    },
    uniformPrior: (input) => ({ frameProbs: new Array<number>(frameCount(input.length)).fill(0.5) }),
    quality: (output, label) => frameQuality(output.frameProbs, label),
    routerFeatures: speechRouterFeatures,
  };
}

/** Eight loudness statistics of a clip: enough for a gate to tell quiet/noisy/clean clips apart. */
export function speechRouterFeatures(samples: readonly number[]): number[] {
  const n = frameCount(samples.length);
  const db = Array.from({ length: n }, (_, f) => Math.max(-100, frameRmsDbfs(samples, f)));
  const mean = db.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const std = Math.sqrt(db.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n));
  const sorted = [...db].sort((a, b) => a - b);
  const pct = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? -100;
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if ((samples[i - 1] ?? 0) < 0 !== (samples[i] ?? 0) < 0) crossings++;
  const above = (t: number): number => db.filter((v) => v > t).length / Math.max(1, n);
  // Scaled to roughly [-1, 1] so the gate MLP needs no normaliser.
  return [
    mean / 100,
    std / 50,
    pct(0.1) / 100,
    pct(0.5) / 100,
    pct(0.9) / 100,
    above(-35),
    above(-50),
    crossings / samples.length,
  ];
}
