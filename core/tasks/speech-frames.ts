import type { Prng } from "./prng.ts";

export const SPEECH_SAMPLE_RATE = 16_000;
/** Silero VAD's frame at 16 kHz: 512 samples = 32 ms. */
export const FRAME_SAMPLES = 512;
/** A frame is speech when the clean audio is louder than this (MODELS.md: labelled by construction). */
export const SPEECH_THRESHOLD_DBFS = -35;

/** Frames in a clip; a trailing partial frame is dropped (experts and labels use the same rule). */
export function frameCount(samples: number): number {
  return Math.floor(samples / FRAME_SAMPLES);
}

export function frameRmsDbfs(samples: ArrayLike<number>, frame: number): number {
  let sum = 0;
  const start = frame * FRAME_SAMPLES;
  for (let i = start; i < start + FRAME_SAMPLES; i++) {
    const v = samples[i] ?? 0;
    sum += v * v;
  }
  const rms = Math.sqrt(sum / FRAME_SAMPLES);
  return rms > 0 ? 20 * Math.log10(rms) : Number.NEGATIVE_INFINITY;
}

/**
 * Frame labels of clean audio: 1 where RMS > -35 dBFS, dilated by `dilate` frames on each side so that the soft
 * onsets and tails a detector rightly calls speech are not counted against it.
 */
export function labelFrames(clean: ArrayLike<number>, dilate = 1, thresholdDbfs = SPEECH_THRESHOLD_DBFS): number[] {
  const n = frameCount(clean.length);
  const loud = Array.from({ length: n }, (_, f) => frameRmsDbfs(clean, f) > thresholdDbfs);
  return loud.map((_, f) => {
    for (let d = -dilate; d <= dilate; d++) if (loud[f + d]) return 1;
    return 0;
  });
}

/**
 * Adds white Gaussian noise at `snrDb`, measured against the power of the speech frames (not the silence, which
 * would make the nominal SNR depend on how much pause a clip holds). Output is clipped to [-1, 1].
 */
export function addNoise(clean: ArrayLike<number>, snrDb: number, rng: Prng): number[] {
  const labels = labelFrames(clean, 0);
  let power = 0;
  let count = 0;
  labels.forEach((speech, f) => {
    if (!speech) return;
    for (let i = f * FRAME_SAMPLES; i < (f + 1) * FRAME_SAMPLES; i++) {
      const v = clean[i] ?? 0;
      power += v * v;
      count++;
    }
  });
  // A clip without speech still gets noise, scaled as if its speech were at the labelling threshold.
  const signalPower = count > 0 ? power / count : 10 ** (SPEECH_THRESHOLD_DBFS / 10);
  const sigma = Math.sqrt(signalPower / 10 ** (snrDb / 10));
  const out = new Array<number>(clean.length);
  for (let i = 0; i < clean.length; i++) {
    const v = (clean[i] ?? 0) + sigma * rng.gaussian();
    out[i] = Math.max(-1, Math.min(1, v));
  }
  return out;
}
