import { describe, expect, it } from "vitest";
import { JobMessage } from "../jobs/schema.ts";
import { bytesToBase64 } from "./base64.ts";
import type { MediaDecoders } from "./decoders.ts";
import { decodePcm16, encodePcm16 } from "./pcm16.ts";
import { mulberry32 } from "./prng.ts";
import { prepareJobInput } from "./registry.ts";
import {
  createSpeechTask,
  MAX_SPEECH_SAMPLES,
  SpeechJobInput,
  speechJobSamples,
  speechRouterFeatures,
} from "./speech.ts";
import { FRAME_SAMPLES } from "./speech-frames.ts";

/** The SQS message size limit (adapters/queue/sqs.ts refuses bigger bodies). */
const SQS_MAX_BYTES = 256 * 1024;

const decoders: Pick<MediaDecoders, "decodeWav16k"> = {
  decodeWav16k: (bytes) => new Array<number>(bytes.length > 100 ? MAX_SPEECH_SAMPLES + 1 : 2048).fill(0.25),
};
const speech = createSpeechTask(decoders);

function noise(n: number, seed: number): number[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => 2 * rng.next() - 1);
}

describe("speech job input", () => {
  it("normalises API samples to a pcm16 job input that passes the job schema", () => {
    const samples = noise(MAX_SPEECH_SAMPLES, 1);
    const job = prepareJobInput(speech, { samples });
    if (!job.ok) throw new Error(job.error);
    const parsed = SpeechJobInput.parse(job.value);
    expect(speechJobSamples(parsed)).toHaveLength(MAX_SPEECH_SAMPLES);
    expect(speechJobSamples(parsed)[7]).toBeCloseTo(samples[7] ?? 0, 4);
  });

  it("refuses audio over 5 s from samples or WAV with a message that says the limit", () => {
    const long = prepareJobInput(speech, { samples: new Array(MAX_SPEECH_SAMPLES + 1).fill(0) });
    expect(long.ok).toBe(false);
    expect(!long.ok && long.error).toMatch(/longer than 5 s \(80000 samples/);
    const wav = prepareJobInput(speech, { wav: btoa("x".repeat(200)) });
    expect(!wav.ok && wav.error).toMatch(/longer than 5 s .*got 5\.00 s/);
    expect(prepareJobInput(speech, { wav: btoa("RIFF") }).ok).toBe(true);
  });

  it("rejects job inputs that are too short, too long, odd-sized or not base64", () => {
    const bad = [
      { pcm16: encodePcm16(new Array(FRAME_SAMPLES - 1).fill(0)) },
      { pcm16: encodePcm16(new Array(MAX_SPEECH_SAMPLES + 1).fill(0)) },
      { pcm16: bytesToBase64(new Uint8Array(2 * FRAME_SAMPLES + 1)) },
      { pcm16: "!!not base64!!" },
      { pcm16: encodePcm16(new Array(FRAME_SAMPLES).fill(0)), extra: 1 },
      new Array(FRAME_SAMPLES).fill(0),
    ];
    for (const input of bad) expect(SpeechJobInput.safeParse(input).success).toBe(false);
    expect(SpeechJobInput.safeParse({ pcm16: encodePcm16(new Array(FRAME_SAMPLES).fill(0)) }).success).toBe(true);
  });

  it("fits a maximal 5 s job, with its signed envelope, in one 256 KiB SQS message", () => {
    const job = prepareJobInput(speech, { samples: noise(MAX_SPEECH_SAMPLES, 2) });
    if (!job.ok) throw new Error(job.error);
    const message = JobMessage.parse({
      v: 1,
      jobId: `${"r".repeat(200)}`,
      requestId: `${"r".repeat(200)}`,
      kind: "validation",
      task: "speech",
      uid: 65535,
      hotkey: "5".repeat(60),
      input: job.value,
      deadline: 9_999_999_999_999,
      enqueuedAt: 9_999_999_999_999,
      request: {
        version: "2",
        timestamp: "9".repeat(16),
        uuid: "123e4567-e89b-42d3-a456-426614174000",
        signedBy: "5".repeat(60),
        signedFor: "5".repeat(60),
        signature: `0x${"ab".repeat(64)}`,
      },
    });
    const bytes = new TextEncoder().encode(JSON.stringify(message)).length;
    expect(bytes).toBeLessThan(SQS_MAX_BYTES);
    // The old JSON float array of the same clip would not fit: the compact form is what makes this possible.
    expect(new TextEncoder().encode(JSON.stringify(noise(MAX_SPEECH_SAMPLES, 2))).length).toBeGreaterThan(
      SQS_MAX_BYTES,
    );
  });

  it("derives the prior and router features from the pcm16 input", () => {
    const samples = noise(3 * FRAME_SAMPLES + 100, 3).map((v) => v * 0.1);
    const input = SpeechJobInput.parse({ pcm16: encodePcm16(samples) });
    expect(speech.uniformPrior(input)).toEqual({ frameProbs: [0.5, 0.5, 0.5] });
    const features = speech.routerFeatures(input);
    expect(features).toHaveLength(8);
    const expected = speechRouterFeatures(decodePcm16(input.pcm16));
    features.forEach((f, i) => {
      expect(f).toBeCloseTo(expected[i] ?? Number.NaN, 12);
    });
    // Loud and quiet clips must look different to the gate.
    const loud = speech.routerFeatures({ pcm16: encodePcm16(samples.map((v) => v * 9)) });
    expect(loud[0]).toBeGreaterThan((features[0] ?? 0) + 0.1);
    expect(speechRouterFeatures([]).every(Number.isFinite)).toBe(true);
  });
});
