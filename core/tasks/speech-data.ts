import { encodePcm16 } from "./pcm16.ts";
import { deriveSeed, mulberry32 } from "./prng.ts";
import { MAX_SPEECH_FRAMES, type SpeechJobInput, type SpeechLabel } from "./speech.ts";
import { addNoise, FRAME_SAMPLES, frameCount } from "./speech-frames.ts";
import type { ValidationItem, ValidationSource } from "./validation.ts";

/** A clean recording and its per-frame labels (data/speech/clean.wav + labels.json). */
export interface SpeechRecording {
  samples: ArrayLike<number>;
  labels: readonly (0 | 1)[];
}

/** SNRs the validator mixes in; `null` is the clean clip. */
export const VALIDATION_SNRS: readonly (number | null)[] = [null, 20, 10, 5, 0];
/** The longest clip a job may carry (5 s), so that hidden items look like paid queries. */
const WINDOW_FRAMES = MAX_SPEECH_FRAMES;

/** One clip (as a pcm16 job input): frames [start, start + frames) of the recording, with noise at `snrDb` drawn from `seed`. */
export function speechClip(
  rec: SpeechRecording,
  startFrame: number,
  frames: number,
  snrDb: number | null,
  seed: number,
): ValidationItem<SpeechJobInput, SpeechLabel> {
  const clean = Array.from(
    { length: frames * FRAME_SAMPLES },
    (_, i) => rec.samples[startFrame * FRAME_SAMPLES + i] ?? 0,
  );
  const samples = snrDb === null ? clean : addNoise(clean, snrDb, mulberry32(seed));
  // Items travel to the experts on the queue like paid jobs, so they take the same compact job input.
  const input = { pcm16: encodePcm16(samples) };
  const label = Array.from({ length: frames }, (_, f) => rec.labels[startFrame + f] ?? 0);
  return { id: `speech-${startFrame}-${frames}-${snrDb ?? "clean"}-${seed >>> 0}`, input, label };
}

/** Fixed, non-overlapping 5 s windows of the recording at one SNR: for reports and tests. */
export function speechWindows(
  rec: SpeechRecording,
  snrDb: number | null,
  seed: number,
): ValidationItem<SpeechJobInput, SpeechLabel>[] {
  const total = Math.min(frameCount(rec.samples.length), rec.labels.length);
  const items: ValidationItem<SpeechJobInput, SpeechLabel>[] = [];
  for (let start = 0; start + WINDOW_FRAMES <= total; start += WINDOW_FRAMES) {
    items.push(speechClip(rec, start, WINDOW_FRAMES, snrDb, deriveSeed(seed, `window-${start}`)));
  }
  return items;
}

/**
 * Hidden speech items: each draw takes a random 5 s window, a random SNR and fresh noise from the epoch seed, so
 * 20 s of committed clean audio yields an unbounded supply of distinct questions.
 */
export function speechValidationSource(rec: SpeechRecording): ValidationSource<SpeechJobInput, SpeechLabel> {
  const total = Math.min(frameCount(rec.samples.length), rec.labels.length);
  const frames = Math.min(WINDOW_FRAMES, total);
  return {
    task: "speech",
    size: Math.max(1, Math.floor(total / Math.max(1, frames))),
    sample: (count, seed) => [...draws(count, seed)],
    draws,
  };
  function* draws(count: number, seed: number): Generator<ValidationItem<SpeechJobInput, SpeechLabel>> {
    const rng = mulberry32(deriveSeed(seed, "speech-validation"));
    for (let i = 0; i < count; i++) {
      const start = rng.int(total - frames + 1);
      const snr = VALIDATION_SNRS[rng.int(VALIDATION_SNRS.length)] ?? null;
      yield speechClip(rec, start, frames, snr, rng.int(2 ** 31));
    }
  }
}
