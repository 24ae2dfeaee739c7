/**
 * Shapley scoring benchmark (issue 7).
 * 1. Exact Shapley, 12 experts x 1,000 items x 10 classes: incremental depth-first coalition table (each subset = one
 *    push from its parent) vs a naive exact Shapley that rebuilds every v(S) from scratch. Prints the speed-up.
 * 2. Permutation sampling (antithetic pairs) on 64 and 256 synthetic experts over 1,000 items: time, permutations,
 *    reported standard errors, and the error against a 4x longer reference run (64) ...
 * 3. ... and against analytic values on a 256-player unanimity game (Shapley known in closed form), with the share of
 *    players whose true value lies within 3 reported standard errors.
 * Run: node --import tsx bench/shapley.ts      Last line: JSON of the figures.
 */
import { createEnsembleGame } from "../core/scoring/ensemble-game.ts";
import { exactShapley, shapleyFromTable } from "../core/scoring/exact-shapley.ts";
import { sampledShapley } from "../core/scoring/sampled-shapley.ts";
import { type SyntheticKind, syntheticDigits } from "../core/scoring/testing/synthetic-digits.ts";
import { unanimityGame } from "../core/scoring/testing/toy-games.ts";

const CAST: SyntheticKind[] = ["spec04", "spec59", "weakGeneralist", "adversarial", "noise"];
const ITEMS = 1000;
const CLASSES = 10;

function cast(n: number) {
  return syntheticDigits(
    Array.from({ length: n }, (_, i) => CAST[i % CAST.length] ?? "noise"),
    ITEMS,
    42 + n,
  );
}

function time<T>(run: () => T): { ms: number; result: T } {
  const start = performance.now();
  const result = run();
  return { ms: performance.now() - start, result };
}

/** Baseline: v(S) for every subset computed from scratch (mean of |S| rows per item, then Brier), no reuse. */
function naiveExact(probs: Float64Array, labels: Int32Array, n: number): Float64Array {
  const table = new Float64Array(2 ** n);
  const mix = new Float64Array(CLASSES);
  for (let mask = 0; mask < table.length; mask++) {
    const members: number[] = [];
    for (let e = 0; e < n; e++) if ((mask & (1 << e)) !== 0) members.push(e);
    let total = 0;
    for (let i = 0; i < ITEMS; i++) {
      mix.fill(members.length === 0 ? 1 / CLASSES : 0);
      for (const e of members) {
        for (let c = 0; c < CLASSES; c++) mix[c] = (mix[c] ?? 0) + (probs[(e * ITEMS + i) * CLASSES + c] ?? 0);
      }
      let brier = 0;
      const scale = members.length === 0 ? 1 : 1 / members.length;
      for (let c = 0; c < CLASSES; c++) brier += ((mix[c] ?? 0) * scale - (c === labels[i] ? 1 : 0)) ** 2;
      total += 1 - brier / 2;
    }
    table[mask] = total / ITEMS;
  }
  return shapleyFromTable(table, n);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs((a[k] ?? 0) - (b[k] ?? 0)));
  return m;
}

function summarise(values: ArrayLike<number>): { max: number; mean: number } {
  let max = 0;
  let sum = 0;
  for (let k = 0; k < values.length; k++) {
    const v = values[k] ?? 0;
    max = Math.max(max, v);
    sum += v;
  }
  return { max, mean: values.length === 0 ? 0 : sum / values.length };
}

// 1. Exact, 12 experts.
const twelve = cast(12);
const exactGame = createEnsembleGame({ outputs: twelve.outputs, labels: twelve.labels, metric: "brier" });
exactShapley(exactGame); // warm-up (JIT)
const exact = time(() => exactShapley(exactGame));
const naive = time(() => naiveExact(twelve.outputs.probs as Float64Array, twelve.labels, 12));
const exactRatio = naive.ms / exact.ms;
const efficiency = Math.abs(exact.result.values.reduce((s, v) => s + v, 0) - (exact.result.vAll - exact.result.vEmpty));
console.log(
  `exact 12 experts x ${ITEMS} items: incremental ${exact.ms.toFixed(1)} ms, naive ${naive.ms.toFixed(1)} ms, ` +
    `speed-up x${exactRatio.toFixed(2)}, max |phi - phi_naive| = ${maxAbsDiff(exact.result.values, naive.result).toExponential(2)}, ` +
    `efficiency gap ${efficiency.toExponential(2)}`,
);

// 2. Sampling on the ensemble game.
const sampled: Record<string, number> = {};
for (const [n, permutations] of [
  [64, 200],
  [256, 40],
] as const) {
  const { outputs, labels } = cast(n);
  const game = createEnsembleGame({ outputs, labels, metric: "brier" });
  const run = time(() => sampledShapley(game, { seed: 1, targetStandardError: 0, maxPermutations: permutations }));
  const se = summarise(run.result.standardErrors);
  let line =
    `sampled ${n} experts: ${run.result.permutations} permutations in ${run.ms.toFixed(0)} ms ` +
    `(${(run.ms / run.result.permutations).toFixed(2)} ms each), reported SE mean ${se.mean.toExponential(2)} max ${se.max.toExponential(2)}`;
  sampled[`n${n}_ms`] = Math.round(run.ms);
  sampled[`n${n}_permutations`] = run.result.permutations;
  sampled[`n${n}_se_mean`] = se.mean;
  sampled[`n${n}_se_max`] = se.max;
  if (n === 64) {
    const reference = sampledShapley(game, { seed: 2, targetStandardError: 0, maxPermutations: 4 * permutations });
    const diff = run.result.values.map((v, i) => Math.abs(v - (reference.values[i] ?? 0)));
    const err = summarise(diff);
    line += `; vs ${reference.permutations}-permutation reference: mean |err| ${err.mean.toExponential(2)} max ${err.max.toExponential(2)}`;
    sampled.n64_err_vs_reference_mean = err.mean;
    sampled.n64_err_vs_reference_max = err.max;
  }
  console.log(line);
}

// 3. Error against analytic values at 256 players.
const players = 256;
const blocks = Array.from({ length: 400 }, (_, b) => ({
  members: [b % players, (b * 7 + 3) % players, (b * 13 + 5) % players].filter((m, k, all) => all.indexOf(m) === k),
  worth: ((b * 31) % 7) / 7 - 0.3,
}));
const analytic = unanimityGame(players, blocks);
const analyticRun = time(() =>
  sampledShapley(analytic.game, { seed: 3, targetStandardError: 0.02, maxPermutations: 2000 }),
);
let within = 0;
const analyticErr = analytic.phi.map((phi, i) => {
  const err = Math.abs((analyticRun.result.values[i] ?? 0) - phi);
  if (err <= 3 * (analyticRun.result.standardErrors[i] ?? 0) + 1e-12) within++;
  return err;
});
const analyticSummary = summarise(analyticErr);
console.log(
  `unanimity game, ${players} players: ${analyticRun.result.permutations} permutations, mean |err| ` +
    `${analyticSummary.mean.toExponential(2)} max ${analyticSummary.max.toExponential(2)}, ` +
    `${within}/${players} within 3 reported SE`,
);

console.log(
  JSON.stringify({
    exact12_ms: Math.round(exact.ms * 10) / 10,
    naive12_ms: Math.round(naive.ms * 10) / 10,
    ratio: Math.round(exactRatio * 100) / 100,
    exact12_efficiency_gap: efficiency,
    ...sampled,
    analytic256_err_mean: analyticSummary.mean,
    analytic256_err_max: analyticSummary.max,
    analytic256_within_3se: within / players,
    analytic256_permutations: analyticRun.result.permutations,
  }),
);
