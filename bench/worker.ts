/**
 * GPU worker benchmark (issue 5): jobs/s through the full worker path (in-memory queue + in-memory job store +
 * dynamic batcher + real onnxruntime-node on a 784-64-10 MLP + sr25519 signing of every answer + result write)
 * against raw `session.run` on the same model at the same batch size, in the same run. Also runs the worker path
 * with a no-op signer, to show how much of the gap is the per-answer sr25519 signature.
 * Run: node --import tsx bench/worker.ts      Last line: JSON of the figures.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { silentLogger } from "../adapters/log/logger.ts";
import { MemoryJobQueue } from "../adapters/queue/memory.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { MemoryJobStore } from "../adapters/tables/memory-jobs.ts";
import { signEpistula } from "../core/epistula/epistula.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { ExpertAnswer } from "../core/jobs/schema.ts";
import type { JobStore } from "../core/ports/jobs.ts";
import type { Signer } from "../core/ports/signer.ts";
import { makeJob, taggedPixels } from "../gpu-workers/testing/jobs.ts";
import { writeMlpExpert } from "../gpu-workers/testing/mlp-expert.ts";
import { startWorker } from "../gpu-workers/worker.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 3000);
const BATCH = 32;

/** Resolves when `count` jobs have been completed through this store. */
function completionCounter(inner: JobStore, count: number): { store: JobStore; done: Promise<void> } {
  let completed = 0;
  let resolve: () => void = () => {};
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const store: JobStore = {
    create: (job) => inner.create(job),
    get: (id) => inner.get(id),
    getMany: (ids) => inner.getMany(ids),
    markRunning: (id, w, at) => inner.markRunning(id, w, at),
    fail: (id, e, at) => inner.fail(id, e, at),
    cancel: (id, at) => inner.cancel(id, at),
    expire: (id, at) => inner.expire(id, at),
    async complete(id, answer: ExpertAnswer, at) {
      const result = await inner.complete(id, answer, at);
      if (result.ok && ++completed === count) resolve();
      return result;
    },
  };
  return { store, done };
}

async function workerRun(manifest: ExpertManifest, signer: Signer | undefined, label: string) {
  const queue = new MemoryJobQueue();
  const base = new MemoryJobStore();
  const { store, done } = completionCounter(base, JOBS);
  const made = Array.from({ length: JOBS }, (_, i) =>
    makeJob({ jobId: `${label}-${i}`, hotkey: manifest.hotkey, input: taggedPixels(i) }),
  );
  for (const job of made) await base.create(job.record);
  const worker = await startWorker(
    {
      workerId: label,
      experts: [manifest],
      concurrency: 256,
      pollers: 4,
      waitSeconds: 1,
      batch: { maxBatchSize: BATCH, preferredBatchSizes: [BATCH], maxQueueDelayMs: 2 },
    },
    {
      queue,
      jobs: store,
      runtime: createOnnxRuntime({ preferCuda: false, log: () => {} }),
      verifier: sr25519Verifier,
      logger: silentLogger,
      ...(signer ? { signers: () => signer } : {}),
    },
  );
  const start = performance.now();
  await queue.sendMany(made.map((j) => j.body));
  await done;
  const ms = performance.now() - start;
  const metrics = worker.metrics();
  await worker.stop();
  return {
    jobsPerSecond: (JOBS / ms) * 1000,
    meanBatch: metrics.inferenceItems / Math.max(1, metrics.inferenceCalls),
    jobP50: metrics.jobMs.p50 ?? 0,
    jobP99: metrics.jobMs.p99 ?? 0,
    inferenceP50: metrics.inferenceMs.p50 ?? 0,
  };
}

async function rawRun(manifest: ExpertManifest) {
  const session = await ort.InferenceSession.create(new Uint8Array(await readFile(manifest.model.path)), {
    executionProviders: ["cpu"],
  });
  const batches = Math.ceil(JOBS / BATCH);
  const tensors = Array.from({ length: batches }, (_, b) => {
    const data = new Float32Array(BATCH * 784);
    for (let i = 0; i < BATCH; i++) data.set(taggedPixels(b * BATCH + i), i * 784);
    return new ort.Tensor("float32", data, [BATCH, 784]);
  });
  const first = tensors[0];
  if (first) await session.run({ x: first }); // warm-up, as the runtime adapter does
  const latencies: number[] = [];
  const start = performance.now();
  for (const x of tensors) {
    const t = performance.now();
    await session.run({ x });
    latencies.push(performance.now() - t);
  }
  const ms = performance.now() - start;
  await session.release();
  latencies.sort((a, b) => a - b);
  return { jobsPerSecond: ((batches * BATCH) / ms) * 1000, batchP50: latencies[Math.floor(latencies.length / 2)] ?? 0 };
}

function signMicros(signer: Signer): number {
  const body = JSON.stringify({ jobId: "x", uid: 1, output: { probs: new Array(10).fill(0.1) } });
  const n = 300;
  const start = performance.now();
  for (let i = 0; i < n; i++) signEpistula(signer, body, signer.address);
  return ((performance.now() - start) / n) * 1000;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function main() {
  await identityReady();
  const dir = await mkdtemp(join(tmpdir(), "bench-worker-"));
  try {
    const manifest = await writeMlpExpert(dir, "bench-mlp");
    const noopSigner: Signer = {
      address: manifest.hotkey,
      publicKey: new Uint8Array(32),
      sign: () => new Uint8Array(64),
    };
    const raw = await rawRun(manifest);
    const full = await workerRun(manifest, undefined, "full");
    const nosign = await workerRun(manifest, noopSigner, "nosign");
    const signUs = signMicros(signerFromUri(manifest.hotkeyUri ?? ""));
    const ratio = full.jobsPerSecond / raw.jobsPerSecond;
    const addedUs = 1e6 / full.jobsPerSecond - 1e6 / raw.jobsPerSecond;
    console.log(`jobs: ${JOBS}, batch size ${BATCH}, model 784-64-10 MLP on the CPU execution provider`);
    console.log(
      `raw session.run:            ${round(raw.jobsPerSecond, 0)} jobs/s (p50 ${round(raw.batchP50, 3)} ms per batch)`,
    );
    console.log(
      `worker, full path:          ${round(full.jobsPerSecond, 0)} jobs/s (mean batch ${round(full.meanBatch, 1)}, job p50 ${full.jobP50} ms, p99 ${full.jobP99} ms)`,
    );
    console.log(
      `worker, no-op signer:       ${round(nosign.jobsPerSecond, 0)} jobs/s (mean batch ${round(nosign.meanBatch, 1)})`,
    );
    console.log(`sr25519 Epistula signature: ${round(signUs, 1)} us per answer`);
    console.log(`ratio worker/raw: ${round(ratio, 4)} (target >= 0.8); added cost per job ${round(addedUs, 1)} us`);
    console.log(
      JSON.stringify({
        jobs: JOBS,
        batch: BATCH,
        raw_jobs_per_s: round(raw.jobsPerSecond, 0),
        worker_jobs_per_s: round(full.jobsPerSecond, 0),
        worker_nosign_jobs_per_s: round(nosign.jobsPerSecond, 0),
        ratio: round(ratio, 4),
        ratio_nosign: round(nosign.jobsPerSecond / raw.jobsPerSecond, 4),
        added_us_per_job: round(addedUs, 1),
        sign_us: round(signUs, 1),
        job_p50_ms: full.jobP50,
        job_p99_ms: full.jobP99,
        mean_batch: round(full.meanBatch, 1),
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
