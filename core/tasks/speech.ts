import { z } from "zod";
import { base64Length, base64ToBytes } from "./base64.ts";
import { weightedAverage } from "./combine.ts";
import type { MediaDecoders } from "./decoders.ts";
import { frameQuality } from "./metrics.ts";
import { decodePcm16, encodePcm16, pcm16SampleCount } from "./pcm16.ts";
import { FRAME_SAMPLES, frameCount, frameRmsDbfs, SPEECH_SAMPLE_RATE } from "./speech-frames.ts";
import type { TaskDefinition } from "./task.ts";

/** Micro-credits per expert answer. */
export const SPEECH_PRICE = 2000;
/** Longest clip, in seconds: as pcm16 base64 (~213 KB) it still fits one 256 KiB SQS message with its envelope. */
export const MAX_SPEECH_SECONDS = 5;
/** Five seconds at 16 kHz. */
export const MAX_SPEECH_SAMPLES = MAX_SPEECH_SECONDS * SPEECH_SAMPLE_RATE;
/** Frames of the longest clip (a trailing partial frame is dropped). */
export const MAX_SPEECH_FRAMES = frameCount(MAX_SPEECH_SAMPLES);
/** Base64 characters of the longest pcm16 job input. */
export const MAX_PCM16_BASE64 = base64Length(2 * MAX_SPEECH_SAMPLES);
/** A 5 s 48 kHz stereo PCM16 WAV is ~960 KB (~1.3 MB base64); float32 at 16 kHz is less; leave room for headers. */
const MAX_WAV_BASE64 = 2_000_000;

const TOO_LONG = `audio longer than ${MAX_SPEECH_SECONDS} s (${MAX_SPEECH_SAMPLES} samples at 16 kHz): split it into clips of at most ${MAX_SPEECH_SECONDS} s`;
const TOO_SHORT = `audio shorter than one frame (${FRAME_SAMPLES} samples)`;

const Samples = z.array(z.number()).min(FRAME_SAMPLES, TOO_SHORT).max(MAX_SPEECH_SAMPLES, TOO_LONG);

export const SpeechInput = z.union(
  [z.strictObject({ samples: Samples }), z.strictObject({ wav: z.base64().min(1).max(MAX_WAV_BASE64) })],
  {
    // Report why the form the client chose failed (e.g. "samples: audio longer than 5 s"), not zod's "Invalid input".
    error: (issue) => {
      if (issue.code !== "invalid_union") return undefined;
      const input = issue.input;
      const chosen = typeof input === "object" && input !== null && "wav" in input ? 1 : 0;
      const first = issue.errors[chosen]?.[0];
      return first ? `${first.path.join(".")}${first.path.length > 0 ? ": " : ""}${first.message}` : undefined;
    },
  },
);
export type SpeechInput = z.infer<typeof SpeechInput>;

/**
 * What the workers get (it travels inside a queue message): `pcm16` = base64 of little-endian Int16 samples, 16 kHz
 * mono, between one frame and 5 s. Bounds are checked from the text's length, without decoding.
 */
export const SpeechJobInput = z.strictObject({
  pcm16: z
    .base64()
    .max(MAX_PCM16_BASE64, TOO_LONG)
    .refine((text) => Number.isInteger(pcm16SampleCount(text)), "pcm16 must hold whole 16-bit samples")
    .refine((text) => pcm16SampleCount(text) >= FRAME_SAMPLES, TOO_SHORT)
    .refine((text) => pcm16SampleCount(text) <= MAX_SPEECH_SAMPLES, TOO_LONG),
});
export type SpeechJobInput = z.infer<typeof SpeechJobInput>;

/** One speech probability per 32 ms frame (512 samples). */
export const SpeechOutput = z.strictObject({ frameProbs: z.array(z.number().min(0).max(1)).max(MAX_SPEECH_FRAMES) });
export type SpeechOutput = z.infer<typeof SpeechOutput>;

export const SpeechLabel = z.array(z.union([z.literal(0), z.literal(1)]));
export type SpeechLabel = z.infer<typeof SpeechLabel>;

/** Samples of a speech job input; an undecodable one (never past the schema) reads as silence, not a crash. */
export function speechJobSamples(input: SpeechJobInput): Float32Array {
  try {
    return decodePcm16(input.pcm16);
  } catch {
    return new Float32Array(0);
  }
}

export type SpeechTask = TaskDefinition<SpeechInput, SpeechJobInput, SpeechOutput, SpeechLabel>;

export function createSpeechTask(decoders: Pick<MediaDecoders, "decodeWav16k">): SpeechTask {
  return {
    id: "speech",
    description: "Voice-activity detection: 16 kHz mono audio (<= 5 s) -> speech probability per 32 ms frame.",
    inputSchema: SpeechInput,
    jobInputSchema: SpeechJobInput,
    outputSchema: SpeechOutput,
    labelSchema: SpeechLabel,
    runner: "silero-vad",
    pricePerAnswer: SPEECH_PRICE,
    // The experts are the shipped Silero models with their own (stateful) contracts, not a pluggable shape.
    modelContract: undefined,
    normalize(input) {
      let samples: ArrayLike<number>;
      if ("samples" in input) {
        samples = input.samples;
      } else {
        try {
          samples = decoders.decodeWav16k(base64ToBytes(input.wav));
        } catch (error) {
          return { ok: false, error: `wav: ${error instanceof Error ? error.message : String(error)}` };
        }
      }
      if (samples.length < FRAME_SAMPLES) return { ok: false, error: TOO_SHORT };
      if (samples.length > MAX_SPEECH_SAMPLES)
        return { ok: false, error: `${TOO_LONG} (got ${(samples.length / SPEECH_SAMPLE_RATE).toFixed(2)} s)` };
      // encodePcm16 clips instead of rejecting: float pipelines often overshoot full scale slightly.
      return { ok: true, value: { pcm16: encodePcm16(samples) } };
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
    // The frame count follows from the text's length: no need to decode.
    uniformPrior: (input) => ({ frameProbs: new Array<number>(frameCount(pcm16SampleCount(input.pcm16))).fill(0.5) }),
    quality: (output, label) => frameQuality(output.frameProbs, label),
    routerFeatures: (input) => speechRouterFeatures(speechJobSamples(input)),
  };
}

/** Eight loudness statistics of a clip: enough for a gate to tell quiet/noisy/clean clips apart. */
export function speechRouterFeatures(samples: ArrayLike<number>): number[] {
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
    crossings / Math.max(1, samples.length),
  ];
}
