import { describe, expect, it } from "vitest";
import { DIGIT_EXPERT_RECIPES } from "../experts/digit-experts.ts";
import { type DigitDataset, digitValidationSource, splitDigits } from "./digits-data.ts";
import { decodePcm16 } from "./pcm16.ts";
import { deriveSeed, mulberry32, shuffledIndices } from "./prng.ts";
import { SpeechJobInput } from "./speech.ts";
import { speechValidationSource, speechWindows } from "./speech-data.ts";
import { addNoise, FRAME_SAMPLES, labelFrames } from "./speech-frames.ts";

const N = 10_000;
const data: DigitDataset = {
  pixels: new Float32Array(N * 784),
  labels: Uint8Array.from({ length: N }, (_, i) => i % 10),
};

describe("seeded data", () => {
  it("reproduces a PRNG stream from its seed", () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(shuffledIndices(10, mulberry32(1)).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(deriveSeed(1, "a")).not.toBe(deriveSeed(1, "b"));
  });

  it("keeps the hidden set disjoint from router training and from every expert's training rows", () => {
    const split = splitDigits(N, 42);
    const hidden = new Set(split.hidden);
    expect(hidden.size).toBe(2000);
    expect(split.routerTrain.some((r) => hidden.has(r))).toBe(false);
    expect(split.expertTrain.some((r) => hidden.has(r) || split.routerTrain.includes(r))).toBe(false);
    expect(split.hidden.length + split.routerTrain.length + split.expertTrain.length).toBe(N);
    for (const recipe of DIGIT_EXPERT_RECIPES) {
      if (recipe.kind !== "train") continue;
      const rows = recipe.rows(split, data);
      expect(rows.length, recipe.id).toBeGreaterThan(0);
      expect(
        rows.filter((r) => hidden.has(r) || split.routerTrain.includes(r)),
        recipe.id,
      ).toEqual([]);
    }
  });

  it("samples validation digits from the hidden rows only, reproducibly per seed", () => {
    const split = splitDigits(N, 42);
    const source = digitValidationSource(data, split.hidden);
    const items = source.sample(50, 3);
    expect(items.map((i) => i.id)).toEqual(source.sample(50, 3).map((i) => i.id));
    expect(items.map((i) => i.id)).not.toEqual(source.sample(50, 4).map((i) => i.id));
    const hidden = new Set(split.hidden.map((r) => `digits-${r}`));
    expect(items.every((i) => hidden.has(i.id))).toBe(true);
  });
});

describe("speech labels and noise", () => {
  // 10 frames: silence, 3 loud frames, silence.
  const clean = Array.from({ length: 10 * FRAME_SAMPLES }, (_, i) => {
    const f = Math.floor(i / FRAME_SAMPLES);
    return f >= 4 && f <= 6 ? 0.3 * Math.sin(i / 5) : 0;
  });

  it("labels loud frames and dilates by one frame", () => {
    expect(labelFrames(clean, 1)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 0, 0]);
    expect(labelFrames(clean, 0)).toEqual([0, 0, 0, 0, 1, 1, 1, 0, 0, 0]);
  });

  it("adds noise at the requested SNR over the speech frames, reproducibly", () => {
    const noisy = addNoise(clean, 10, mulberry32(1));
    expect(noisy).toEqual(addNoise(clean, 10, mulberry32(1)));
    let noise = 0;
    let signal = 0;
    for (let i = 4 * FRAME_SAMPLES; i < 7 * FRAME_SAMPLES; i++) {
      signal += (clean[i] ?? 0) ** 2;
      noise += ((noisy[i] ?? 0) - (clean[i] ?? 0)) ** 2;
    }
    expect(10 * Math.log10(signal / noise)).toBeGreaterThan(9);
    expect(10 * Math.log10(signal / noise)).toBeLessThan(11);
  });

  it("derives fresh hidden clips per seed from one clean recording", () => {
    const long = Array.from({ length: 400 * FRAME_SAMPLES }, (_, i) =>
      Math.floor(i / (40 * FRAME_SAMPLES)) % 2 ? 0.2 * Math.sin(i / 3) : 0,
    );
    const rec = { samples: long, labels: labelFrames(long, 1) as (0 | 1)[] };
    const source = speechValidationSource(rec);
    const a = source.sample(3, 1);
    expect(a.map((i) => i.id)).toEqual(source.sample(3, 1).map((i) => i.id));
    expect(a.map((i) => i.id)).not.toEqual(source.sample(3, 2).map((i) => i.id));
    for (const item of a) {
      // Items carry the same pcm16 job input as paid queries, one label per 512-sample frame.
      const samples = decodePcm16(SpeechJobInput.parse(item.input).pcm16);
      expect(item.label.length * FRAME_SAMPLES).toBe(samples.length);
    }
    const windows = speechWindows(rec, null, 0);
    expect(windows).toHaveLength(2);
    // A clean window decodes to the recording within one 16-bit step, and keeps the recording's labels.
    const first = decodePcm16(SpeechJobInput.parse(windows[0]?.input).pcm16);
    first.forEach((v, i) => {
      expect(Math.abs(v - (long[i] ?? 0))).toBeLessThanOrEqual(1 / 32767);
    });
    expect(windows[0]?.label).toEqual(rec.labels.slice(0, windows[0]?.label.length));
  });
});
