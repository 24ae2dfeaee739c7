/**
 * The digit experts' build (`npm run experts`, and a first `npm start`): its recipes trained one after another on
 * the calling thread (the baseline, as before) against trained on worker threads (one per core, at most 4, the
 * default), alternating, each into a fresh folder; checks that both builds wrote byte-identical files.
 * Run: node --import tsx bench/expert-build.ts [--rounds 3]   Last line: JSON, `ratio` = threaded s over baseline s
 * (medians of the rounds).
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildDigitExperts } from "../adapters/runtime/digit-experts-builder.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" } } });
const ROUNDS = Number(values.rounds);
const threads = Math.min(availableParallelism(), 4);
// On one core the default is the one-thread build itself: there is nothing to compare.
if (threads < 2) throw new Error("bench/expert-build compares threads with one thread: it needs 2 cores or more");
await loadMnist(); // read once, outside the timings (both builds share the process's cached copy)

async function timedBuild(n: number): Promise<{ seconds: number; files: Map<string, Buffer> }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-build-"));
  try {
    const started = performance.now();
    await buildDigitExperts({ outDir: dir, seed: 42, threads: n });
    const seconds = (performance.now() - started) / 1000;
    const files = new Map<string, Buffer>();
    for (const name of (await readdir(dir)).filter((f) => f.endsWith(".onnx") || f === "digits-gate.json"))
      files.set(name, await readFile(join(dir, name)));
    return { seconds, files };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}
const baseline: number[] = [];
const threaded: number[] = [];
let identical = true;
for (let round = 0; round < ROUNDS; round++) {
  // Alternate which goes first, so that a drifting machine hits both alike.
  const order = round % 2 === 0 ? [1, threads] : [threads, 1];
  const builds = new Map<number, Awaited<ReturnType<typeof timedBuild>>>();
  for (const n of order) builds.set(n, await timedBuild(n));
  const one = builds.get(1);
  const many = builds.get(threads);
  if (!one || !many) throw new Error("a build is missing");
  baseline.push(one.seconds);
  threaded.push(many.seconds);
  for (const [name, bytes] of one.files) if (!many.files.get(name)?.equals(bytes)) identical = false;
  if (one.files.size !== many.files.size) identical = false;
  console.log(
    `round ${round + 1}: one thread ${one.seconds.toFixed(1)} s, ${threads} threads ${many.seconds.toFixed(1)} s`,
  );
}
const figures = {
  ratio: Math.round((median(threaded) / median(baseline)) * 1000) / 1000,
  baseline_s: Math.round(median(baseline) * 10) / 10,
  threaded_s: Math.round(median(threaded) * 10) / 10,
  threads,
  identical,
  rounds: ROUNDS,
};
console.log(
  `build: ${figures.baseline_s} s on one thread, ${figures.threaded_s} s on ${threads}; identical: ${identical}`,
);
console.log(JSON.stringify(figures));
