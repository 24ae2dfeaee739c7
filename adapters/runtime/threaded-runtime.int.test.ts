import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import ort from "onnxruntime-node";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { taggedPixels } from "../../gpu-workers/testing/jobs.ts";
import { writeMlpExpert } from "../../gpu-workers/testing/mlp-expert.ts";
import { speechClipInputs } from "../../gpu-workers/testing/speech-clips.ts";
import { identityReady } from "../identity/sr25519.ts";
import { createOnnxRuntime, ModelIntegrityError } from "./onnx-runtime.ts";
import { writeSpeechManifests } from "./speech-experts-builder.ts";
import { createThreadedOnnxRuntime, type ThreadedRuntime } from "./threaded-runtime.ts";

/*
 * The onnxruntime adapter in its own thread (issue 17): the same answers as on the caller's thread, no model run on
 * the caller's thread, and a lost thread costs only what it had in flight.
 */

let dir: string;
let mlp: ExpertManifest;
let vad: ExpertManifest;
const inline = createOnnxRuntime({ preferCuda: false, log: () => {} });
const runtimes: ThreadedRuntime[] = [];
const threaded = () => {
  const runtime = createThreadedOnnxRuntime({ preferCuda: false, log: () => {} });
  runtimes.push(runtime);
  return runtime;
};

beforeAll(async () => {
  await identityReady();
  dir = await mkdtemp(join(tmpdir(), "threaded-runtime-"));
  mlp = await writeMlpExpert(dir, "threaded-mlp");
  const speech = await writeSpeechManifests({ outDir: dir });
  const v6 = speech.find((m) => m.id === "vad-v6");
  if (!v6) throw new Error("no vad-v6 manifest");
  vad = v6;
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(runtimes.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("createThreadedOnnxRuntime", () => {
  it("answers exactly as the adapter on the caller's thread, for a classifier and for the VAD's clips", async () => {
    const pixels = Array.from({ length: 5 }, (_, i) => Float32Array.from(taggedPixels(i)));
    const clips = await speechClipInputs(3, 2);
    const runtime = threaded();
    for (const [manifest, inputs] of [
      [mlp, pixels],
      [vad, clips],
    ] as const) {
      const here = await inline.load(manifest);
      const there = await runtime.load(manifest);
      expect(there.provider).toBe("cpu");
      expect(await there.runBatch(inputs), manifest.id).toEqual(await here.runBatch(inputs));
      await Promise.all([here.close(), there.close()]);
    }
  });

  it("runs no model on the caller's thread", async () => {
    // The class behind onnxruntime's session factory: every session made on this thread runs through its `run`.
    const sessions = ort.InferenceSession as unknown as { prototype: ort.InferenceSession };
    const run = vi.spyOn(sessions.prototype, "run");
    const runtime = threaded();
    const model = await runtime.load(mlp);
    await model.runBatch([taggedPixels(1), taggedPixels(2)]);
    expect(run).not.toHaveBeenCalled();
    // The spy does see a run made here, so the assertion above can fail.
    const here = await inline.load(mlp);
    await here.runBatch([taggedPixels(1)]);
    expect(run).toHaveBeenCalled();
    await here.close();
  });

  it("refuses a model whose digest is wrong with the adapter's own error", async () => {
    const tampered = { ...mlp, model: { ...mlp.model, sha256: "0".repeat(64) } };
    const runtime = threaded();
    const refused = runtime.load(tampered);
    await expect(refused).rejects.toThrow(ModelIntegrityError);
    await expect(refused).rejects.toThrow(/threaded-mlp.*sha256/);
  });

  it("fails a bad input's batch with the runner's reason and goes on answering", async () => {
    const runtime = threaded();
    const model = await runtime.load(mlp);
    await expect(model.runBatch([[1, 2, 3]])).rejects.toThrow(/expected 784 values, got 3/);
    expect(await model.runBatch([taggedPixels(3)])).toHaveLength(1);
  });

  it("fails what a lost thread had in flight, then loads the expert again on a new thread, once, and answers", async () => {
    const runtime = threaded();
    const model = await runtime.load(vad);
    const clips = await speechClipInputs(8, 5);
    const here = await inline.load(vad);
    const expected = await here.runBatch(clips.slice(0, 2));
    await here.close();
    const inFlight = model.runBatch(clips);
    await runtime.restartThread();
    await expect(inFlight).rejects.toThrow(/inference thread exited/);
    // Two calls at once on the new thread: both answered, the expert loaded there once for both.
    const posted = vi.spyOn(Worker.prototype, "postMessage");
    const [again, twice] = await Promise.all([model.runBatch(clips.slice(0, 2)), model.runBatch(clips.slice(0, 2))]);
    expect(again).toEqual(expected);
    expect(twice).toEqual(expected);
    const kinds = posted.mock.calls.map(([request]) => (request as { t: string }).t);
    expect(kinds.filter((t) => t === "load")).toHaveLength(1);
    expect(kinds.filter((t) => t === "run")).toHaveLength(2);
    expect(await runtime.modelsInThread()).toBe(1);
  });

  it("releases a closed model's session in the thread, and refuses its calls", async () => {
    const runtime = threaded();
    const first = await runtime.load(mlp);
    const second = await runtime.load(mlp);
    expect(await runtime.modelsInThread()).toBe(2);
    await first.close();
    expect(await runtime.modelsInThread()).toBe(1);
    await expect(first.runBatch([taggedPixels(1)])).rejects.toThrow(/closed/);
    expect(await second.runBatch([taggedPixels(1)])).toHaveLength(1);
    // Closed while its reload on a new thread is under way: the close waits for the load, then releases it.
    await runtime.restartThread();
    const reloading = second.runBatch([taggedPixels(2)]);
    await second.close();
    await reloading.catch(() => {});
    expect(await runtime.modelsInThread()).toBe(0);
  });

  it("refuses every call once closed", async () => {
    const runtime = threaded();
    const model = await runtime.load(mlp);
    expect(await runtime.close()).toBe(true);
    await expect(model.runBatch([taggedPixels(1)])).rejects.toThrow(/closed/);
    await expect(runtime.load(mlp)).rejects.toThrow(/closed/);
  });

  it("lets a process exit while its thread is inside a long model call: the call returns first, no abort", async () => {
    // Ending the thread with terminate() (or process.exit) during a native call aborts the process (exit 134).
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "testing", "exit-during-run.ts"), dir],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(child.stderr).not.toMatch(/terminate called|Napi::Error/);
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}")).toMatchObject({ ended: true });
  });
});
