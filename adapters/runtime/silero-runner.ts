import ort from "onnxruntime-node";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { FRAME_SAMPLES, frameCount, SPEECH_SAMPLE_RATE } from "../../core/tasks/speech-frames.ts";
import type { BatchRunner } from "./classifier-runner.ts";
import { pcm16ToFloat32 } from "./runner-input.ts";

/** v5/v6 see the last 64 samples of the previous chunk before each new 512 (MODELS.md). */
const CONTEXT_SAMPLES = 64;
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

/**
 * `silero-vad`: per `{pcm16}` clip a stateful loop over 32 ms frames -> {frameProbs}. The clips of a batch step
 * through their frames together: one model call per frame for every clip not yet finished, each a row of the batch
 * with its own state (the models take [batch, samples] and state [2, batch, hidden]). Against a call per clip and
 * frame, the same outputs for ~2.3x less CPU per clip at 32 clips (bench/RESULTS.md), and what a GPU needs to be
 * used at all. A clip that ends leaves the batch (its state rows dropped), so shorter clips cost only their frames.
 */
export function sileroRunner(session: ort.InferenceSession, manifest: ExpertManifest): BatchRunner {
  const variant = variantOf(manifest);
  const hasSr = manifest.model.inputs.some((t) => t.name === "sr");
  const sr = new ort.Tensor("int64", BigInt64Array.from([BigInt(SPEECH_SAMPLE_RATE)]), []);
  const context = variant.kind === "v5" ? CONTEXT_SAMPLES : 0;
  const width = context + FRAME_SAMPLES;
  const { hidden } = variant;

  /** Frame `f` of each clip of `rows` (context + frame, the context silence at f = 0), as one [rows, width] tensor. */
  function framesAt(clips: readonly Float32Array[], rows: readonly number[], f: number): ort.Tensor {
    const chunk = new Float32Array(rows.length * width);
    const start = f * FRAME_SAMPLES - context;
    rows.forEach((clipIndex, r) => {
      const samples = clips[clipIndex] ?? new Float32Array(0);
      const from = Math.max(0, start);
      const to = Math.min(samples.length, start + width);
      if (to > from) chunk.set(samples.subarray(from, to), r * width + (from - start));
    });
    return new ort.Tensor("float32", chunk, [rows.length, width]);
  }

  async function runTogether(clips: readonly Float32Array[]): Promise<{ frameProbs: number[] }[]> {
    const results = clips.map(() => ({ frameProbs: [] as number[] }));
    const frames = clips.map((samples) => frameCount(samples.length));
    // Clip indexes in row order; a state is [2, rows, hidden].
    let rows = clips.map((_, i) => i).filter((i) => (frames[i] ?? 0) > 0);
    let state: Float32Array = new Float32Array(2 * rows.length * hidden);
    // v4's second state (c); v5/v6 have one, and c stays empty.
    let c: Float32Array = new Float32Array(variant.kind === "v4" ? 2 * rows.length * hidden : 0);
    for (let f = 0; rows.length > 0; f++) {
      const n = rows.length;
      const feeds: Record<string, ort.Tensor> = { input: framesAt(clips, rows, f) };
      if (hasSr) feeds.sr = sr;
      if (variant.kind === "v4") {
        feeds.h = new ort.Tensor("float32", state, [2, n, hidden]);
        feeds.c = new ort.Tensor("float32", c, [2, n, hidden]);
      } else {
        feeds.state = new ort.Tensor("float32", state, [2, n, hidden]);
      }
      const out = await session.run(feeds);
      const p = out.output?.data;
      const next = out[variant.kind === "v4" ? "hn" : "stateN"]?.data;
      const cn = variant.kind === "v4" ? out.cn?.data : c;
      if (
        !(p instanceof Float32Array) ||
        p.length !== n ||
        !(next instanceof Float32Array) ||
        next.length !== state.length ||
        !(cn instanceof Float32Array) ||
        cn.length !== c.length
      ) {
        throw new Error(`${manifest.id}: unexpected outputs from the VAD model at frame ${f}`);
      }
      rows.forEach((clipIndex, r) => {
        results[clipIndex]?.frameProbs.push(Math.max(0, Math.min(1, p[r] ?? 0)));
      });
      // Clips whose last frame this was leave the batch, with their rows of the state.
      const kept = rows.flatMap((clipIndex, r) => (f + 1 < (frames[clipIndex] ?? 0) ? [r] : []));
      if (kept.length === n) {
        state = next;
        c = cn;
      } else {
        state = keepRows(next, n, kept);
        if (variant.kind === "v4") c = keepRows(cn, n, kept);
        rows = kept.map((r) => rows[r] ?? -1);
      }
    }
    return results;
  }

  /** The rows `kept` of a [2, n, hidden] state, in that order. */
  function keepRows(stateOf: Float32Array, n: number, kept: readonly number[]): Float32Array {
    const out = new Float32Array(2 * kept.length * hidden);
    for (let layer = 0; layer < 2; layer++) {
      kept.forEach((r, j) => {
        const from = (layer * n + r) * hidden;
        out.set(stateOf.subarray(from, from + hidden), (layer * kept.length + j) * hidden);
      });
    }
    return out;
  }

  return {
    async run(inputs) {
      // Decoded once per clip, before the frame loop: the job input is compact pcm16 (core/tasks/pcm16.ts).
      const clips = inputs.map((x, i) => pcm16ToFloat32(x, `${manifest.id} input ${i}`, { min: FRAME_SAMPLES }));
      return runTogether(clips);
    },
  };
}
