import ort from "onnxruntime-node";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { FRAME_SAMPLES, frameCount, SPEECH_SAMPLE_RATE } from "../../core/tasks/speech-frames.ts";
import type { BatchRunner } from "./classifier-runner.ts";
import { pcm16ToFloat32 } from "./runner-input.ts";

/** v5/v6 see the last 64 samples of the previous chunk before each new 512 (MODELS.md). */
const CONTEXT_SAMPLES = 64;
/** Clips run concurrently over separate state; a few at a time keeps ORT's thread pool busy without thrashing. */
const PARALLEL_ITEMS = 4;

type Variant = { kind: "v4"; hidden: number } | { kind: "v5"; hidden: number };

function variantOf(manifest: ExpertManifest): Variant {
  const names = new Set(manifest.model.inputs.map((t) => t.name));
  const width = (name: string): number => {
    const dim = manifest.model.inputs.find((t) => t.name === name)?.dims[2];
    return typeof dim === "number" ? dim : 0;
  };
  if (names.has("h") && names.has("c")) return { kind: "v4", hidden: width("h") || 64 };
  if (names.has("state")) return { kind: "v5", hidden: width("state") || 128 };
  throw new Error(`${manifest.id}: silero-vad manifest needs inputs (input, sr, h, c) or (input, state, sr)`);
}

/** `silero-vad`: per `{pcm16}` clip a stateful loop over 32 ms frames -> {frameProbs}; clips run in parallel. */
export function sileroRunner(session: ort.InferenceSession, manifest: ExpertManifest): BatchRunner {
  const variant = variantOf(manifest);
  const hasSr = manifest.model.inputs.some((t) => t.name === "sr");
  const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(SPEECH_SAMPLE_RATE)]), []);

  async function runClip(samples: Float32Array): Promise<{ frameProbs: number[] }> {
    const frames = frameCount(samples.length);
    const probs: number[] = [];
    const stateSize = 2 * variant.hidden;
    let state: Float32Array = new Float32Array(stateSize);
    let c: Float32Array = new Float32Array(stateSize);
    const context = variant.kind === "v5" ? CONTEXT_SAMPLES : 0;
    for (let f = 0; f < frames; f++) {
      // Context + frame in one buffer; at f = 0 the context is silence.
      const chunk = new Float32Array(context + FRAME_SAMPLES);
      const start = f * FRAME_SAMPLES - context;
      for (let i = 0; i < chunk.length; i++) chunk[i] = start + i >= 0 ? (samples[start + i] ?? 0) : 0;
      const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor("float32", chunk, [1, chunk.length]) };
      if (hasSr) feeds.sr = sr;
      if (variant.kind === "v4") {
        feeds.h = new ort.Tensor("float32", state, [2, 1, variant.hidden]);
        feeds.c = new ort.Tensor("float32", c, [2, 1, variant.hidden]);
      } else {
        feeds.state = new ort.Tensor("float32", state, [2, 1, variant.hidden]);
      }
      const out = await session.run(feeds);
      const p = out.output?.data;
      const next = out[variant.kind === "v4" ? "hn" : "stateN"]?.data;
      if (!(p instanceof Float32Array) || !(next instanceof Float32Array) || next.length !== stateSize) {
        throw new Error(`${manifest.id}: unexpected outputs from the VAD model at frame ${f}`);
      }
      probs.push(Math.max(0, Math.min(1, p[0] ?? 0)));
      state = next;
      if (variant.kind === "v4") {
        const cn = out.cn?.data;
        if (!(cn instanceof Float32Array) || cn.length !== stateSize)
          throw new Error(`${manifest.id}: missing cn output`);
        c = cn;
      }
    }
    return { frameProbs: probs };
  }

  return {
    async run(inputs) {
      // Decoded once per clip, before the frame loop: the job input is compact pcm16 (core/tasks/pcm16.ts).
      const clips = inputs.map((x, i) => pcm16ToFloat32(x, `${manifest.id} input ${i}`, { min: FRAME_SAMPLES }));
      const results = new Array<{ frameProbs: number[] }>(clips.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < clips.length) {
          const i = next++;
          const clip = clips[i];
          if (clip) results[i] = await runClip(clip);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_ITEMS, clips.length) }, worker));
      return results;
    },
  };
}
