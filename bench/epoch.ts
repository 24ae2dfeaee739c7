/**
 * Yuma 3 epoch, bit-exact paths against the float baseline (runEpochFloat) on the same input, same run:
 * runEpoch (the EpochOutput contract, bonds as nested [uid, u16] rows) and runEpochCsr (same values, bonds as CSR
 * typed arrays). Networks: n=256 with 64 validators, n=4096 with 64 and with 256 validators. Each validator weights
 * ~95% of the miners (sparse rows as validators submit them), stake is spread log-uniformly, and the bonds come from
 * one warm-up epoch so the bond matrix is as dense as in steady state. Liquid alpha off (mainnet default); one extra
 * line times liquid alpha on at 4096 x 256. Figures are medians of wall time and of process CPU time (user + system,
 * steadier than wall time on a shared machine). Target: one 4096 x 256 epoch under 200 ms of CPU. Last line: JSON.
 */
import { runEpoch, runEpochCsr } from "../core/consensus/epoch.ts";
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

interface Figures {
  readonly exact: { wall: number; cpu: number };
  readonly csr: { wall: number; cpu: number };
  readonly float: { wall: number; cpu: number };
}

function measure(label: string, input: EpochInput, runs: number): Figures {
  const exact = time(() => runEpoch(input), runs);
  const csr = time(() => runEpochCsr(input), runs);
  const float = time(() => runEpochFloat(input), runs);
  const nnz = input.weights.reduce((a, r) => a + r.length, 0);
  const f = (x: { wall: number; cpu: number }) => `${x.wall.toFixed(1)} ms (cpu ${x.cpu.toFixed(1)})`;
  console.log(
    `${label}: exact ${f(exact)}, exact csr ${f(csr)}, float ${f(float)}, ratio exact/float ` +
      `${(exact.cpu / float.cpu).toFixed(2)} cpu (weights nnz ${nnz})`,
  );
  return { exact, csr, float };
}

const TARGET_CPU_MS = 200;
const small = measure("n=256 v=64", network(256, 64, false, 1), 9);
const mid = measure("n=4096 v=64", network(4096, 64, false, 2), 9);
const big = measure("n=4096 v=256", network(4096, 256, false, 3), 9);
const liquid = measure("n=4096 v=256 liquid alpha", network(4096, 256, true, 4), 5);

const met = big.exact.cpu < TARGET_CPU_MS;
const metCsr = big.csr.cpu < TARGET_CPU_MS;
const verdict = (ok: boolean) => (ok ? "MET" : "NOT MET");
console.log(
  `target (4096 x 256 Yuma 3 epoch under ${TARGET_CPU_MS} ms CPU): runEpoch ${big.exact.cpu.toFixed(1)} ms ` +
    `${verdict(met)}; runEpochCsr ${big.csr.cpu.toFixed(1)} ms ${verdict(metCsr)}`,
);
const r2 = (x: number) => +x.toFixed(2);
console.log(
  JSON.stringify({
    n256_ms: r2(small.exact.wall),
    n256_cpu_ms: r2(small.exact.cpu),
    n4096_v64_ms: r2(mid.exact.wall),
    n4096_v64_cpu_ms: r2(mid.exact.cpu),
    n4096_v256_ms: r2(big.exact.wall),
    n4096_v256_cpu_ms: r2(big.exact.cpu),
    n4096_v256_csr_ms: r2(big.csr.wall),
    n4096_v256_csr_cpu_ms: r2(big.csr.cpu),
    ratio_4096_256: r2(big.exact.wall / big.float.wall),
    ratio_4096_256_cpu: r2(big.exact.cpu / big.float.cpu),
    n4096_v256_liquid_ms: r2(liquid.exact.wall),
    n4096_v256_liquid_cpu_ms: r2(liquid.exact.cpu),
    target_cpu_ms: TARGET_CPU_MS,
    target_met: met,
    target_met_csr: metCsr,
  }),
);
