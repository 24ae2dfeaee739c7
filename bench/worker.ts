/**
 * GPU worker benchmark (issue 5): jobs/s through the full worker path (in-memory queue + in-memory job store +
 * dynamic batcher + real onnxruntime-node + one sr25519 signature per batch of answers (issue 17: a Merkle root,
 * each answer with its proof) + result write) against raw inference
 * on the same model at the same batch size, in the same run. Two cases:
 * - mlp: a 784-64-10 MLP, baseline raw `session.run`. Inference costs ~1 us per job, so this case measures the
 *   per-job fixed costs (before issue 17 mostly the sr25519 answer signature); a no-op signer run shows what
 *   signing still costs, and `mlp_answers_per_signature` how many answers one signature covered.
 * - vad: Silero VAD v6, a real expert of the market, through the runtime adapter (runner `silero-vad`) on 5 s pcm16
 *   clips of data/speech/clean.wav; baseline the same adapter's `model.runBatch` on the same inputs and batch size
 *   (for a stateful VAD the frame loop is the model's inference).
 * The worker runs its experts in a thread of their own, as it does by default (WORKER_INFERENCE_THREAD); the VAD
 * case is also run with them on the worker's own thread, for comparison (`vad_inline_ratio`).
 * Baselines are measured before and after each worker run and averaged, to damp drift on a shared machine; both
 * cases run in rounds and report the round with the median ratio. The MLP path is warmed up (untimed) first.
 * Run: node --import tsx bench/worker.ts   (BENCH_JOBS, BENCH_VAD_JOBS set the job counts)   Last line: JSON.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ort from "onnxruntime-node";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { silentLogger } from "../adapters/log/logger.ts";
import { MemoryJobQueue } from "../adapters/queue/memory.ts";
import { createOnnxRuntime, DEFAULT_INTRA_OP_THREADS } from "../adapters/runtime/onnx-runtime.ts";
import { writeSpeechManifests } from "../adapters/runtime/speech-experts-builder.ts";
import { createThreadedOnnxRuntime } from "../adapters/runtime/threaded-runtime.ts";
import { MemoryJobStore } from "../adapters/tables/memory-jobs.ts";
import type { BatchConfigInput } from "../core/batching/config.ts";
import { signEpistula } from "../core/epistula/epistula.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { Signer } from "../core/ports/signer.ts";
import { completionCounter } from "../gpu-workers/testing/completion-counter.ts";
import { makeJob, taggedPixels } from "../gpu-workers/testing/jobs.ts";
import { writeMlpExpert } from "../gpu-workers/testing/mlp-expert.ts";
import { speechClipInputs } from "../gpu-workers/testing/speech-clips.ts";
import { startWorker } from "../gpu-workers/worker.ts";

const MLP_JOBS = Number(process.env.BENCH_JOBS ?? 3000);
const MLP_BATCH = 32;
const MLP_QUEUE_DELAY_MS = 2;
const MLP_WARM_UP_JOBS = 6000;
const MLP_ROUNDS = 5;
/** Jobs per round; VAD_ROUNDS worker runs, each between two baseline runs. */
const VAD_JOBS = Number(process.env.BENCH_VAD_JOBS ?? 192);
const VAD_ROUNDS = 5;
/** Rounds of the comparison with the experts on the worker's own thread. */
const VAD_INLINE_ROUNDS = 3;
/** Clips per batch: the runner steps them through their frames together, one model call per frame for all. */
const VAD_BATCH = 16;
/**
 * Triton's rule of thumb, a queue delay of ~10% of a batch's compute (~170 ms here): with 2 ms, the first batch of
 * a burst leaves before the pollers have parsed 16 of the 210 KB messages, and every later batch is then offset
 * by it, so a run pays one extra batch (~1 ms per job over 192 jobs) that a saturated worker never pays.
 */
const VAD_QUEUE_DELAY_MS = 20;
/** Distinct clips; jobs cycle over them (the stateful model caches nothing across clips). */
const VAD_CLIPS = 48;

/**
 * The worker's experts run in a thread of their own by default (WORKER_INFERENCE_THREAD); `inline` is the worker's
 * own thread. One runtime of each for the whole run, as a serving worker keeps its own: its thread's code is warmed
 * by the untimed runs.
 */
const runtimes = {
  thread: createThreadedOnnxRuntime({ preferCuda: false, log: () => {} }),
  inline: createOnnxRuntime({ preferCuda: false, log: () => {} }),
};
type RuntimeKind = keyof typeof runtimes;

interface WorkerCase {
  readonly label: string;
  /** Where the worker runs its experts (default `thread`, the worker's default). */
  readonly runtime?: RuntimeKind;
  readonly manifest: ExpertManifest;
  readonly jobs: number;
  readonly batch: number;
  /** The batcher's maxQueueDelayMs for this expert. */
  readonly queueDelayMs: number;
  readonly input: (i: number) => unknown;
  readonly signer?: Signer;
}

interface WorkerFigures {
  jobsPerSecond: number;
  /** sr25519 signatures the serving key made during the run. */
  signatures: number;
  meanBatch: number;
  jobP50: number;
  jobP99: number;
}

async function workerRun(c: WorkerCase): Promise<WorkerFigures> {
  const key = c.signer ?? signerFromUri("//bench-serving-key");
  let signatures = 0;
  const counted: Signer = {
    address: key.address,
    publicKey: key.publicKey,
    sign: (message) => {
      signatures++;
      return key.sign(message);
    },
  };
  const queue = new MemoryJobQueue();
  const base = new MemoryJobStore();
  const { store, done } = completionCounter(base, c.jobs);
  const made = Array.from({ length: c.jobs }, (_, i) =>
    makeJob({ jobId: `${c.label}-${i}`, hotkey: c.manifest.hotkey, task: c.manifest.task, input: c.input(i) }),
  );
  for (const job of made) await base.create(job.record);
  const batch: BatchConfigInput = {
    maxBatchSize: c.batch,
    preferredBatchSizes: [c.batch],
    maxQueueDelayMs: c.queueDelayMs,
  };
  const worker = await startWorker(
    {
      workerId: c.label,
      experts: [c.manifest],
      concurrency: Math.min(1000, 8 * c.batch),
      pollers: 4,
      waitSeconds: 1,
      batch,
    },
    {
      queue,
      jobs: store,
      runtime: runtimes[c.runtime ?? "thread"],
      verifier: sr25519Verifier,
      logger: silentLogger,
      servingKey: counted,
    },
  );
  const start = performance.now();
  await queue.sendMany(made.map((j) => j.body));
  await done;
  const ms = performance.now() - start;
  const metrics = worker.metrics();
  await worker.stop();
  return {
    jobsPerSecond: (c.jobs / ms) * 1000,
    signatures,
    meanBatch: metrics.inferenceItems / Math.max(1, metrics.inferenceCalls),
    jobP50: metrics.jobMs.p50 ?? 0,
    jobP99: metrics.jobMs.p99 ?? 0,
  };
}

/**
 * Raw `session.run` on pre-built [batch, 784] tensors (MLP baseline), with the worker's session threads: ORT's
 * default pool spins a second core between runs, which the worker path does not get either.
 */
async function rawMlp(manifest: ExpertManifest): Promise<number> {
  const session = await ort.InferenceSession.create(new Uint8Array(await readFile(manifest.model.path)), {
    executionProviders: ["cpu"],
    intraOpNumThreads: DEFAULT_INTRA_OP_THREADS,
  });
  const batches = Math.ceil(MLP_JOBS / MLP_BATCH);
  const tensors = Array.from({ length: batches }, (_, b) => {
    const data = new Float32Array(MLP_BATCH * 784);
    for (let i = 0; i < MLP_BATCH; i++) data.set(taggedPixels(b * MLP_BATCH + i), i * 784);
    return new ort.Tensor("float32", data, [MLP_BATCH, 784]);
  });
  const first = tensors[0];
  if (first) await session.run({ x: first }); // warm-up, as the runtime adapter does
  const start = performance.now();
  for (const x of tensors) await session.run({ x });
  const ms = performance.now() - start;
  await session.release();
  return ((batches * MLP_BATCH) / ms) * 1000;
}

/** The runtime adapter's `model.runBatch`, called directly on the same inputs and batch size (VAD baseline). */
async function rawRunBatch(manifest: ExpertManifest, jobs: number, batch: number, input: (i: number) => unknown) {
  const model = await createOnnxRuntime({ preferCuda: false, log: () => {} }).load(manifest);
  const batches = Array.from({ length: Math.ceil(jobs / batch) }, (_, b) =>
    Array.from({ length: Math.min(batch, jobs - b * batch) }, (_, i) => input(b * batch + i)),
  );
  const start = performance.now();
  for (const inputs of batches) await model.runBatch(inputs);
  const ms = performance.now() - start;
  await model.close();
  return (jobs / ms) * 1000;
}

function signMicros(signer: Signer): number {
  const body = JSON.stringify({ jobId: "x", uid: 1, output: { probs: new Array(10).fill(0.1) } });
  const n = 300;
  const start = performance.now();
  for (let i = 0; i < n; i++) signEpistula(signer, body, "");
  return ((performance.now() - start) / n) * 1000;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
/** Extra wall time per job of the worker path over the baseline, from throughputs (us). */
const addedUs = (worker: number, raw: number) => 1e6 / worker - 1e6 / raw;

async function mlpCase(dir: string) {
  const manifest = await writeMlpExpert(dir, "bench-mlp");
  const noopSigner: Signer = {
    address: manifest.hotkey,
    publicKey: new Uint8Array(32),
    sign: () => new Uint8Array(64),
  };
  const base = { manifest, jobs: MLP_JOBS, batch: MLP_BATCH, queueDelayMs: MLP_QUEUE_DELAY_MS, input: taggedPixels };
  // Untimed: V8 compiles the worker path on first use; at tens of us per job a 3,000-job run is short enough for that
  // to be a large share of it, and a serving worker pays it once, not per batch.
  await workerRun({ ...base, jobs: MLP_WARM_UP_JOBS, label: "mlp-warm-up" });
  // Rounds of raw, worker, raw, ... as for VAD: one worker run is well under a second, so a burst of other load on a
  // shared machine can halve it; the round with the median ratio is reported.
  const raws = [await rawMlp(manifest)];
  const rounds: { raw: number; full: WorkerFigures; ratio: number }[] = [];
  for (let r = 0; r < MLP_ROUNDS; r++) {
    const full = await workerRun({ ...base, label: `mlp-full-${r}` });
    raws.push(await rawMlp(manifest));
    const raw = ((raws[r] ?? 0) + (raws[r + 1] ?? 0)) / 2;
    rounds.push({ raw, full, ratio: full.jobsPerSecond / raw });
  }
  const middle = [...rounds].sort((x, y) => x.ratio - y.ratio)[Math.floor(rounds.length / 2)];
  if (middle === undefined) throw new Error("no MLP rounds");
  const nosign = await workerRun({ ...base, label: "mlp-nosign", signer: noopSigner });
  const { raw, full, ratio } = middle;
  return { manifest, raw, full, nosign, ratio, added: addedUs(full.jobsPerSecond, raw), rounds };
}

interface VadRound {
  /** Mean of the baseline runs before and after this worker run (jobs/s). */
  raw: number;
  worker: WorkerFigures;
  ratio: number;
  added: number;
}

/**
 * Rounds of raw, worker, raw, ..., raw: each worker run is compared with the mean of the baselines on either side,
 * and the round with the median ratio is reported (other load on a shared machine swings its speed by 2x).
 */
async function vadCase(dir: string) {
  const manifest = (await writeSpeechManifests({ outDir: dir })).find((m) => m.id === "vad-v6");
  if (manifest === undefined) throw new Error("no vad-v6 speech manifest");
  const clips = await speechClipInputs(VAD_CLIPS, 5);
  const input = (i: number): unknown => clips[i % clips.length];
  const worker = (label: string, runtime: RuntimeKind, jobs = VAD_JOBS) =>
    workerRun({ label, manifest, jobs, batch: VAD_BATCH, queueDelayMs: VAD_QUEUE_DELAY_MS, input, runtime });
  // Untimed: V8 compiles the runner's frame loop and pcm16 decoding on first use (here and in the inference
  // thread), which would otherwise be charged to whichever path runs first.
  await rawRunBatch(manifest, 2 * VAD_BATCH, VAD_BATCH, input);
  await worker("vad-warm-up", "thread", 2 * VAD_BATCH);
  const rounds = async (runtime: RuntimeKind, count: number) => {
    const raws = [await rawRunBatch(manifest, VAD_JOBS, VAD_BATCH, input)];
    const done: VadRound[] = [];
    for (let r = 0; r < count; r++) {
      const figures = await worker(`vad-${runtime}-${r}`, runtime);
      raws.push(await rawRunBatch(manifest, VAD_JOBS, VAD_BATCH, input));
      const raw = ((raws[r] ?? 0) + (raws[r + 1] ?? 0)) / 2;
      done.push({
        raw,
        worker: figures,
        ratio: figures.jobsPerSecond / raw,
        added: addedUs(figures.jobsPerSecond, raw),
      });
    }
    const middle = [...done].sort((x, y) => x.ratio - y.ratio)[Math.floor(done.length / 2)];
    if (middle === undefined) throw new Error("no VAD rounds");
    return { raws, rounds: done, middle };
  };
  const threaded = await rounds("thread", VAD_ROUNDS);
  // For comparison: the same worker with its experts on its own thread (WORKER_INFERENCE_THREAD=false).
  const inline = await rounds("inline", VAD_INLINE_ROUNDS);
  return { ...threaded, inline };
}

async function main() {
  await identityReady();
  const dir = await mkdtemp(join(tmpdir(), "bench-worker-"));
  try {
    const mlp = await mlpCase(dir);
    const vad = await vadCase(dir);
    const signUs = signMicros(signerFromUri("//bench-serving-key"));
    console.log(
      `mlp (784-64-10, cpu, batch ${MLP_BATCH}, ${MLP_JOBS} jobs): raw session.run ${round(mlp.raw, 0)} jobs/s, ` +
        `worker ${round(mlp.full.jobsPerSecond, 0)} jobs/s (mean batch ${round(mlp.full.meanBatch, 1)}, ` +
        `job p50 ${mlp.full.jobP50} ms, p99 ${mlp.full.jobP99} ms), ratio ${round(mlp.ratio, 4)}, ` +
        `added ${round(mlp.added, 1)} us/job; no-op signer ${round(mlp.nosign.jobsPerSecond, 0)} jobs/s ` +
        `(ratio ${round(mlp.nosign.jobsPerSecond / mlp.raw, 4)}); ` +
        `${round(MLP_JOBS / Math.max(1, mlp.full.signatures), 1)} answers per signature; ` +
        `round ratios ${mlp.rounds.map((x) => round(x.ratio, 4)).join(", ")} (median round shown)`,
    );
    const fmt = (xs: readonly number[], d: number) => xs.map((x) => round(x, d)).join(", ");
    const mid = vad.middle;
    console.log(
      `vad (silero v6, cpu, batch ${VAD_BATCH}, queue delay ${VAD_QUEUE_DELAY_MS} ms, ` +
        `${VAD_ROUNDS} rounds of ${VAD_JOBS} 5 s clips), median round: ` +
        `raw model.runBatch ${round(mid.raw, 1)} jobs/s, worker ${round(mid.worker.jobsPerSecond, 1)} jobs/s ` +
        `(mean batch ${round(mid.worker.meanBatch, 1)}, job p50 ${mid.worker.jobP50} ms, ` +
        `p99 ${mid.worker.jobP99} ms), ` +
        `ratio ${round(mid.ratio, 3)} (target >= 0.9), added ${round(mid.added, 0)} us/job; ` +
        `experts on the worker's own thread: ratio ${round(vad.inline.middle.ratio, 3)} ` +
        `(${VAD_INLINE_ROUNDS} rounds: ${fmt(
          vad.inline.rounds.map((x) => x.ratio),
          3,
        )})`,
    );
    console.log(
      `vad runs: raw ${fmt(vad.raws, 1)} jobs/s; worker ${fmt(
        vad.rounds.map((x) => x.worker.jobsPerSecond),
        1,
      )} jobs/s; round ratios ${fmt(
        vad.rounds.map((x) => x.ratio),
        3,
      )}`,
    );
    console.log(`sr25519 Epistula signature: ${round(signUs, 1)} us each (one per batch of answers)`);
    console.log(
      JSON.stringify({
        mlp_ratio: round(mlp.ratio, 4),
        vad_ratio: round(vad.middle.ratio, 3),
        mlp_added_us_per_job: round(mlp.added, 1),
        vad_added_us_per_job: round(vad.middle.added, 0),
        sign_us: round(signUs, 1),
        mlp_raw_jobs_per_s: round(mlp.raw, 0),
        mlp_worker_jobs_per_s: round(mlp.full.jobsPerSecond, 0),
        mlp_nosign_ratio: round(mlp.nosign.jobsPerSecond / mlp.raw, 4),
        mlp_answers_per_signature: round(MLP_JOBS / Math.max(1, mlp.full.signatures), 1),
        mlp_round_ratios: mlp.rounds.map((x) => round(x.ratio, 4)),
        vad_raw_jobs_per_s: round(vad.middle.raw, 1),
        vad_worker_jobs_per_s: round(vad.middle.worker.jobsPerSecond, 1),
        vad_round_ratios: vad.rounds.map((x) => round(x.ratio, 3)),
        vad_inline_ratio: round(vad.inline.middle.ratio, 3),
        vad_job_p50_ms: vad.middle.worker.jobP50,
        vad_job_p99_ms: vad.middle.worker.jobP99,
        mlp_jobs: MLP_JOBS,
        vad_jobs: VAD_JOBS * VAD_ROUNDS,
        mlp_batch: MLP_BATCH,
        vad_batch: VAD_BATCH,
      }),
    );
  } finally {
    await runtimes.thread.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
