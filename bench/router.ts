/**
 * Router benchmark (issue 8): time to route one query with a 784-32-E gate MLP, prior and exploration bonus, top-2 by
 * partial selection, at 16, 256 and 4,096 experts; baseline in the same run: the same scores for every expert, then
 * a full sort of all experts. Also the selection step alone (selectTopK vs sort) on the same score vectors.
 * Run: node --import tsx bench/router.ts      Last line: JSON of the figures.
 */
import { gateForward, initGate } from "../core/routing/gate-network.ts";
import { createRouter, priorFromScores } from "../core/routing/router.ts";
import { selectTopK } from "../core/routing/select-top-k.ts";
import { mulberry32 } from "../core/tasks/prng.ts";

const INPUT = 784;
const HIDDEN = 32;
const K = 2;
const QUERIES = 300;
const rng = mulberry32(2024);

// Digit-like inputs: about a fifth of the pixels lit.
const queries = Array.from({ length: QUERIES }, () =>
  Float32Array.from({ length: INPUT }, () => (rng.next() < 0.2 ? rng.next() : 0)),
);

function perQueryMicros(run: (x: Float32Array) => unknown): number {
  for (let q = 0; q < 30; q++) run(queries[q % QUERIES] ?? new Float32Array(INPUT)); // warm-up (JIT)
  const rounds = 3;
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const x of queries) run(x);
  return ((performance.now() - start) * 1000) / (rounds * QUERIES);
}

interface Setup {
  experts: number;
  ours: (x: Float32Array) => unknown;
  baseline: (x: Float32Array) => unknown;
  selectOnly: () => unknown;
  sortOnly: () => unknown;
}

function setup(experts: number): Setup {
  const uids = Array.from({ length: experts }, (_, e) => e);
  const params = initGate(INPUT, HIDDEN, uids, rng);
  for (let k = 0; k < params.w2.length; k++) params.w2[k] = rng.gaussian() * 0.1;
  const prior = priorFromScores(Float64Array.from(uids, () => rng.next()));
  const traffic = Float64Array.from(uids, () => rng.int(1000));
  const router = createRouter({ params, candidates: uids, prior, options: { explorationWeight: 0.5, epsilon: 0 } });
  // Baseline: identical scores, then sort every expert.
  const hidden = new Float64Array(HIDDEN);
  const logits = new Float64Array(experts);
  const scores = new Float64Array(experts);
  const fixed = Float64Array.from(uids, () => rng.gaussian());
  return {
    experts,
    ours: (x) => router.route(x, K, { traffic }),
    baseline: (x) => {
      gateForward(params, x, hidden, logits);
      let total = 0;
      for (let e = 0; e < experts; e++) total += traffic[e] ?? 0;
      const logTotal = Math.log(1 + total);
      for (let e = 0; e < experts; e++) {
        scores[e] = (logits[e] ?? 0) + (prior[e] ?? 0) + 0.5 * Math.sqrt(logTotal / (1 + (traffic[e] ?? 0)));
      }
      return uids
        .slice()
        .sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b)
        .slice(0, K);
    },
    selectOnly: () => selectTopK(fixed, K),
    sortOnly: () => uids.slice().sort((a, b) => (fixed[b] ?? 0) - (fixed[a] ?? 0) || a - b),
  };
}

const setups = [16, 256, 4096].map(setup);
// Warm every code path at every size first, so the first size measured does not pay for the JIT.
for (const s of setups) {
  perQueryMicros(s.ours);
  perQueryMicros(s.baseline);
  perQueryMicros(s.selectOnly);
  perQueryMicros(s.sortOnly);
}
/** Best of 3 interleaved measurements: the machine is shared, the minimum is the least disturbed. */
const best = (run: (x: Float32Array) => unknown): number => Math.min(...[0, 1, 2].map(() => perQueryMicros(run)));

const figures: Record<string, number> = {};
for (const s of setups) {
  const ours = best(s.ours);
  const baseline = best(s.baseline);
  const selectOnly = best(s.selectOnly);
  const sortOnly = best(s.sortOnly);
  console.log(
    `${s.experts} experts: route ${ours.toFixed(1)} us/query, score-all+sort ${baseline.toFixed(1)} us/query ` +
      `(x${(baseline / ours).toFixed(2)}); selection alone ${selectOnly.toFixed(2)} us vs sort ${sortOnly.toFixed(2)} us ` +
      `(x${(sortOnly / selectOnly).toFixed(1)})`,
  );
  figures[`route_us_${s.experts}`] = Math.round(ours * 10) / 10;
  figures[`baseline_us_${s.experts}`] = Math.round(baseline * 10) / 10;
  figures[`ratio_${s.experts}`] = Math.round((baseline / ours) * 100) / 100;
  figures[`select_ratio_${s.experts}`] = Math.round((sortOnly / selectOnly) * 10) / 10;
}
console.log(JSON.stringify({ ratio: figures.ratio_4096, ...figures }));
