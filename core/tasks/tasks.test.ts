import { describe, expect, it } from "vitest";
import type { MediaDecoders } from "./decoders.ts";
import { classificationQuality, frameQuality } from "./metrics.ts";
import { decodePcm16, encodePcm16 } from "./pcm16.ts";
import { combineAnswers, createTaskRegistry, prepareJobInput } from "./registry.ts";
import { SpeechJobInput } from "./speech.ts";

const fakeDecoders: MediaDecoders = {
  decodeDigitPng: (bytes) => {
    if (bytes[0] !== 0x89) throw new Error("not a PNG");
    return new Array<number>(784).fill(0.5);
  },
  decodeWav16k: (bytes) => {
    if (bytes.length < 4) throw new Error("not a WAV");
    return new Array<number>(1024).fill(2);
  },
};
const registry = createTaskRegistry(fakeDecoders);
const digits = registry.get("digits");
const speech = registry.get("speech");
if (!digits || !speech) throw new Error("tasks missing");

describe("task registry", () => {
  it("lists digits and speech with their prices in micro-credits", () => {
    expect(registry.ids()).toEqual(["digits", "speech"]);
    expect(digits.pricePerAnswer).toBe(1000);
    expect(speech.pricePerAnswer).toBe(2000);
  });

  it("normalises digit pixels and decodes a base64 PNG through the injected decoder", () => {
    const pixels = Array.from({ length: 784 }, (_, i) => (i % 7) / 7);
    expect(prepareJobInput(digits, { pixels })).toEqual({ ok: true, value: pixels });
    expect(prepareJobInput(digits, { png: btoa("\x89PNG") })).toEqual({ ok: true, value: new Array(784).fill(0.5) });
  });

  it("rejects bad digit inputs without throwing", () => {
    expect(prepareJobInput(digits, { pixels: [1, 2] }).ok).toBe(false);
    expect(prepareJobInput(digits, { pixels: new Array(784).fill(1.5) }).ok).toBe(false);
    expect(prepareJobInput(digits, { png: "!!not base64!!" }).ok).toBe(false);
    const bad = prepareJobInput(digits, { png: btoa("GIF89a") });
    expect(bad).toEqual({ ok: false, error: "png: not a PNG" });
    expect(prepareJobInput(digits, { pixels: new Array(784).fill(0), extra: 1 }).ok).toBe(false);
  });

  it("clips decoded speech to [-1, 1] and bounds its length", () => {
    const wav = prepareJobInput(speech, { wav: btoa("RIFFxxxx") });
    if (!wav.ok) throw new Error(wav.error);
    const samples = decodePcm16(SpeechJobInput.parse(wav.value).pcm16);
    expect(samples).toHaveLength(1024);
    expect(samples.every((v) => v === 1)).toBe(true);
    expect(prepareJobInput(speech, { samples: new Array(100).fill(0) }).ok).toBe(false);
    expect(prepareJobInput(speech, { samples: new Array(80_001).fill(0) }).ok).toBe(false);
    expect(prepareJobInput(speech, { samples: new Array(16_000).fill(0.1) }).ok).toBe(true);
  });

  it("combines with renormalised gates and answers the uniform prior when no answer is valid", () => {
    const a = { probs: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
    const b = { probs: [0, 1, 0, 0, 0, 0, 0, 0, 0, 0] };
    const combined = digits.combine([a, b], [3, 1]) as { probs: number[] };
    expect(combined.probs[0]).toBeCloseTo(0.75);
    expect(combined.probs[1]).toBeCloseTo(0.25);
    const input = new Array(784).fill(0);
    expect(combineAnswers(digits, input, [{ probs: [2] }, "junk"], [1, 1])).toEqual(digits.uniformPrior(input));
    // The malformed answer is dropped with its gate; the remaining one carries the whole weight.
    expect(combineAnswers(digits, input, [a, { probs: [2] }], [0.1, 0.9])).toEqual(a);
  });

  it("drops speech answers whose frame count does not match the input", () => {
    const input = { pcm16: encodePcm16(new Array(1024).fill(0)) };
    expect(speech.uniformPrior(input)).toEqual({ frameProbs: [0.5, 0.5] });
    const good = { frameProbs: [1, 0] };
    expect(combineAnswers(speech, input, [good, { frameProbs: [0, 0, 0] }], [1, 1])).toEqual(good);
  });
});

describe("metrics", () => {
  it("scores classification with multi-class Brier and accuracy", () => {
    expect(classificationQuality([1, 0, 0], 0)).toEqual({ brier: 0, accuracy: 1 });
    expect(classificationQuality([0, 1, 0], 0)).toEqual({ brier: 2, accuracy: 0 });
    expect(classificationQuality([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 3).brier).toBeCloseTo(0.9);
  });

  it("scores frames with mean binary Brier and thresholded accuracy", () => {
    const q = frameQuality([0.9, 0.2, 0.6, 0.4], [1, 0, 0, 1]);
    expect(q.accuracy).toBe(0.5);
    expect(q.brier).toBeCloseTo((0.01 + 0.04 + 0.36 + 0.36) / 4);
  });
});
