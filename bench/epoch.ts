/**
 * Yuma 3 epoch, bit-exact path (runEpoch) against the float baseline (runEpochFloat) on the same input, same run.
 * Networks: n=256 with 64 validators, n=4096 with 64 and with 256 validators. Each validator weights ~95% of the
 * miners (sparse rows as validators submit them), stake is spread log-uniformly, and the bonds come from one warm-up
 * epoch so the bond matrix is as dense as in steady state. Liquid alpha off (mainnet default); one extra line times
 * liquid alpha on at 4096 x 256. Last line: JSON figures.
 */
import { runEpoch } from "../core/consensus/epoch.ts";
import { runEpochFloat } from "../core/consensus/epoch-float.ts";
import type { EpochInput } from "../core/consensus/types.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function network(n: number, validators: number, liquidAlpha: boolean, seed: number): EpochInput {
  const rand = rng(seed);
  const block = 100_000;
  const quality = Array.from({ length: n }, () => rand());
  const weights = Array.from({ length: n }, (_, i) => {
    if (i >= validators) return [] as [number, number][];
    const row: [number, number][] = [];
    let max = 0;
    const raw: [number, number][] = [];
    for (let j = validators; j < n; j++) {
      if (rand() < 0.05) continue;
      const w = Math.max(0, (quality[j] ?? 0) + (rand() - 0.5) * 0.2);
      raw.push([j, w]);
      if (w > max) max = w;
    }
    for (const [j, w] of raw) row.push([j, max > 0 ? Math.round((w / max) * 65535) : 0]);
    return row;
  });
  const input: EpochInput = {
    n,
    currentBlock: block,
    tempo: 360,
    activityCutoffFactorMilli: 13889,
    lastUpdate: Array.from({ length: n }, (_, i) => (i < validators ? block - 1 - Math.floor(rand() * 300) : 0)),
    blockAtRegistration: Array.from({ length: n }, () => Math.floor(rand() * 50_000)),
    stake: Array.from({ length: n }, (_, i) => (i < validators ? BigInt(Math.floor(10 ** (12 + rand() * 4))) : 0n)),
    validatorPermits: Array.from({ length: n }, (_, i) => i < validators),
    maxAllowedValidators: validators,
    ownerUid: null,
    weights,
    bonds: Array.from({ length: n }, () => []),
    kappa: 32767,
    bondsPenalty: 65535,
    bondsMovingAverage: 975_000,
    yuma3: true,
    liquidAlpha,
    alphaLow: 45875,
    alphaHigh: 58982,
    alphaSigmoidSteepness: 1000,
    raoEmission: 1_000_000_000_000n,
  };
  const warm = runEpoch(input);
  return { ...input, bonds: warm.bondsU16, validatorPermits: warm.newValidatorPermits };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Median wall ms and median process CPU ms (the latter is steadier on a shared machine). */
function time(f: () => unknown, runs: number): { wall: number; cpu: number } {
  f(); // warm-up (JIT)
  const t: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
    const dc = process.cpuUsage(c0);
    c.push((dc.user + dc.system) / 1000);
  }
  return { wall: median(t), cpu: median(c) };
}

function measure(label: string, input: EpochInput, runs: number): { exact: number; float: number; cpu: number } {
  const exact = time(() => runEpoch(input), runs);
  const float = time(() => runEpochFloat(input), runs);
  const nnz = input.weights.reduce((a, r) => a + r.length, 0);
  console.log(
    `${label}: exact ${exact.wall.toFixed(1)} ms (cpu ${exact.cpu.toFixed(1)}), float ${float.wall.toFixed(1)} ms ` +
      `(cpu ${float.cpu.toFixed(1)}), ratio ${(exact.wall / float.wall).toFixed(2)} (weights nnz ${nnz})`,
  );
  return { exact: exact.wall, float: float.wall, cpu: exact.cpu };
}

const small = measure("n=256 v=64", network(256, 64, false, 1), 9);
const mid = measure("n=4096 v=64", network(4096, 64, false, 2), 5);
const big = measure("n=4096 v=256", network(4096, 256, false, 3), 5);
const liquid = measure("n=4096 v=256 liquid alpha", network(4096, 256, true, 4), 3);

console.log(
  JSON.stringify({
    n256_ms: +small.exact.toFixed(2),
    n4096_v64_ms: +mid.exact.toFixed(2),
    n4096_v256_ms: +big.exact.toFixed(2),
    ratio_4096_256: +(big.exact / big.float).toFixed(2),
    n4096_v256_cpu_ms: +big.cpu.toFixed(2),
    n4096_v256_liquid_ms: +liquid.exact.toFixed(2),
  }),
);
