import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { meanQuality } from "../../core/tasks/metrics.ts";
import { decodePcm16, encodePcm16 } from "../../core/tasks/pcm16.ts";
import { createTaskRegistry } from "../../core/tasks/registry.ts";
import { type SpeechRecording, speechWindows } from "../../core/tasks/speech-data.ts";
import { FRAME_SAMPLES, labelFrames } from "../../core/tasks/speech-frames.ts";
import { mediaDecoders } from "./decoders.ts";
import { createOnnxRuntime } from "./onnx-runtime.ts";
import { soloQuality } from "./solo-quality.ts";
import { writeSpeechManifests } from "./speech-experts-builder.ts";
import { loadSpeechRecording, SPEECH_DATA_DIR } from "./speech-validation.ts";

const speech = createTaskRegistry(mediaDecoders).get("speech");
if (!speech) throw new Error("speech task missing");
const runtime = createOnnxRuntime({ log: () => {} });
let dir: string;
let manifests: ExpertManifest[];
let rec: SpeechRecording;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "speech-experts-"));
  manifests = await writeSpeechManifests({ outDir: dir });
  rec = await loadSpeechRecording();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("Silero VAD experts", () => {
  it("commits under 1 MB of validation audio whose labels match the clean recording", async () => {
    const sizes = await Promise.all(
      ["clean.wav", "labels.json"].map((f) => stat(join(SPEECH_DATA_DIR, f)).then((s) => s.size)),
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThan(1_000_000);
    expect(rec.labels).toEqual(labelFrames(rec.samples, 1));
    expect(rec.labels.filter((l) => l === 1).length).toBeGreaterThan(rec.labels.length / 3);
    expect(rec.labels.filter((l) => l === 0).length).toBeGreaterThan(rec.labels.length / 10);
  });

  it("writes manifests for v4, v5, v6 and the op15 duplicate with the packaged files' hashes", async () => {
    expect(manifests.map((m) => m.id)).toEqual(["vad-v4", "vad-v5", "vad-v6", "vad-v6-op15"]);
    const saved = JSON.parse(await readFile(join(dir, "vad-v6.manifest.json"), "utf8"));
    expect(saved.model.sha256).toBe(manifests[2]?.model.sha256);
    expect(new Set(manifests.map((m) => m.model.sha256)).size).toBe(4);
  });

  it("reaches frame accuracy above 0.85 on clean validation audio for every model", async () => {
    const items = speechWindows(rec, null, 1);
    for (const m of manifests) {
      const model = await runtime.load(m);
      const q = await soloQuality(speech, model, items);
      await model.close();
      expect(q.accuracy, m.id).toBeGreaterThan(0.85);
      expect(q.brier, m.id).toBeLessThan(0.1);
    }
  });

  it("answers one probability per 32 ms frame and the op15 re-export behaves as a duplicate of v6", async () => {
    const items = speechWindows(rec, 5, 3).slice(0, 2);
    const run = async (id: string) => {
      const m = manifests.find((x) => x.id === id);
      if (!m) throw new Error(id);
      const model = await runtime.load(m);
      const out = (await model.runBatch(items.map((i) => i.input))) as { frameProbs: number[] }[];
      await model.close();
      return out;
    };
    const v6 = await run("vad-v6");
    const op15 = await run("vad-v6-op15");
    expect(v6.map((o) => o.frameProbs.length)).toEqual(items.map((i) => i.label.length));
    const diffs = v6.flatMap((o, k) => o.frameProbs.map((p, f) => Math.abs(p - (op15[k]?.frameProbs[f] ?? 0))));
    expect(Math.max(...diffs)).toBeLessThan(1e-3);
    const quality = meanQuality(v6.map((o, k) => speech.quality(o, items[k]?.label)));
    expect(quality.accuracy).toBeGreaterThan(0.8);
  });

  it("runs a batch's clips together, each with the outputs it has alone, clips of any length mixed", async () => {
    // Five 5 s clips cut to a frame, a frame and a half, 1 s and 3.3 s, and one whole: they leave at different frames.
    const lengths = [FRAME_SAMPLES, 1.5 * FRAME_SAMPLES, 16_000, 52_800, 80_000];
    const inputs = [...speechWindows(rec, 10, 7), ...speechWindows(rec, 5, 8)]
      .slice(0, lengths.length)
      .map((item, i) => {
        const samples = decodePcm16((item.input as { pcm16: string }).pcm16);
        return { pcm16: encodePcm16(samples.subarray(0, lengths[i])) };
      });
    for (const m of manifests.filter((x) => x.id === "vad-v4" || x.id === "vad-v6")) {
      const model = await runtime.load(m);
      const together = (await model.runBatch(inputs)) as { frameProbs: number[] }[];
      const alone = await Promise.all(
        inputs.map(async (input) => ((await model.runBatch([input])) as { frameProbs: number[] }[])[0]),
      );
      await model.close();
      expect(
        together.map((o) => o.frameProbs.length),
        m.id,
      ).toEqual([1, 1, 31, 103, 156]);
      together.forEach((o, k) => {
        const own = alone[k]?.frameProbs ?? [];
        expect(o.frameProbs.length).toBe(own.length);
        // The same model math per row (v4's LSTM may differ in the last float bits with the batch's shape).
        expect(Math.max(...o.frameProbs.map((p, f) => Math.abs(p - (own[f] ?? Number.NaN))))).toBeLessThan(1e-5);
      });
    }
  });
});
