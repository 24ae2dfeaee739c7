import type { Prng } from "../tasks/prng.ts";
import { gateForward } from "./gate-network.ts";
import type { GateParams } from "./gate-params.ts";
import { selectTopK } from "./select-top-k.ts";

export interface RouterOptions {
  /** Weight of the validator prior (logit units). Default 1. */
  readonly priorWeight?: number;
  /**
   * UCB-style bonus c * sqrt(ln(1 + total traffic) / (1 + traffic of the expert)), so new experts get tried.
   * Default 0.5. Once a gate is trained it goes only to candidates the gate has no logit for (see `createRouter`).
   */
  readonly explorationWeight?: number;
  /**
   * Probability that the last of the k slots goes to a uniformly random candidate outside the top k; once a gate is
   * trained, only to one the gate has no logit for. Default 0.05.
   */
  readonly epsilon?: number;
  /** Standard deviation of the Gaussian noise added to selection scores (Shazeer's noisy top-k). Default 0. */
  readonly noiseStd?: number;
}

export interface RouterSetup {
  /** Trained gate, or null before the first training (then the prior and exploration decide). */
  readonly params: GateParams | null;
  /** uids that may answer (registered, serving this task). */
  readonly candidates: readonly number[];
  /** prior[c] for candidates[c], in logit units (see priorFromScores); omitted = 0. */
  readonly prior?: ArrayLike<number>;
  readonly options?: RouterOptions;
}

export interface RouteContext {
  /** traffic[c]: queries candidates[c] has answered recently (drives the exploration bonus). */
  readonly traffic?: ArrayLike<number>;
  /** Randomness for epsilon exploration and noise; without it routing is deterministic (no epsilon, no noise). */
  readonly rng?: Prng;
}

export interface Routed {
  /** Chosen uids, best first. */
  readonly uids: number[];
  /** Combination weights for those uids (sum 1): softmax of gate logit + prior over the chosen, without the
   * exploration bonus and noise, so an expert that is only being tried out does not dominate the answer. */
  readonly gates: number[];
  /** Indexes into candidates. */
  readonly indices: Int32Array;
}

export interface Router {
  readonly candidates: readonly number[];
  route(x: ArrayLike<number>, k: number, context?: RouteContext): Routed;
}

/**
 * Noisy top-k softmax gate over the candidates (Shazeer et al. 2017): score = gate logit + priorWeight * prior
 * + exploration bonus (+ noise), top-k by partial selection, then softmax weights over the k chosen.
 * A candidate the gate was not trained on gets the mean logit of the known candidates for this input.
 *
 * Exploration (bonus and epsilon) is for discovery: once a gate is trained, it goes only to candidates the gate has
 * no logit for. The validator asks every expert every hidden item each epoch and the gate is trained on those
 * answers, so sending a client's paid query to an expert the gate already rates badly would learn nothing new.
 */
export function createRouter(setup: RouterSetup): Router {
  const { params, candidates } = setup;
  const options = setup.options ?? {};
  const priorWeight = options.priorWeight ?? 1;
  const explorationWeight = options.explorationWeight ?? 0.5;
  const epsilon = options.epsilon ?? 0.05;
  const noiseStd = options.noiseStd ?? 0;
  const n = candidates.length;

  const gateIndex = new Int32Array(n).fill(-1);
  if (params !== null) {
    const byUid = new Map(params.expertUids.map((uid, e) => [uid, e] as const));
    candidates.forEach((uid, c) => {
      gateIndex[c] = byUid.get(uid) ?? -1;
    });
  }
  // Before any training every candidate is unmeasured by the gate, so every one may be explored.
  const explorable = Array.from(gateIndex, (e) => e < 0);
  const prior = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const p = setup.prior?.[c] ?? 0;
    prior[c] = Number.isFinite(p) ? priorWeight * p : 0;
  }
  const hidden = new Float64Array(params?.hidden ?? 0);
  const logits = new Float64Array(params?.expertUids.length ?? 0);
  const base = new Float64Array(n);
  const scores = new Float64Array(n);
  const explorableOutside = (chosen: Int32Array): number => {
    let count = 0;
    for (let c = 0; c < n; c++) if (explorable[c] && !chosen.includes(c)) count++;
    return count;
  };

  return {
    candidates,
    route(x, k, context = {}) {
      if (params !== null) {
        gateForward(params, x, hidden, logits);
        let known = 0;
        let sum = 0;
        for (let c = 0; c < n; c++) {
          const e = gateIndex[c] ?? -1;
          if (e >= 0) {
            sum += logits[e] ?? 0;
            known++;
          }
        }
        const unknown = known > 0 ? sum / known : 0;
        for (let c = 0; c < n; c++) {
          const e = gateIndex[c] ?? -1;
          base[c] = (e >= 0 ? (logits[e] ?? 0) : unknown) + (prior[c] ?? 0);
        }
      } else {
        base.set(prior);
      }
      const traffic = context.traffic;
      let total = 0;
      if (traffic !== undefined) for (let c = 0; c < n; c++) total += Math.max(0, traffic[c] ?? 0);
      const logTotal = Math.log(1 + total);
      const rng = context.rng;
      for (let c = 0; c < n; c++) {
        let s = base[c] ?? 0;
        if (explorationWeight > 0 && explorable[c])
          s += explorationWeight * Math.sqrt(logTotal / (1 + Math.max(0, traffic?.[c] ?? 0)));
        if (noiseStd > 0 && rng !== undefined) s += noiseStd * rng.gaussian();
        scores[c] = s;
      }
      const chosen = selectTopK(scores, k);
      const size = chosen.length;
      if (rng !== undefined && epsilon > 0 && size > 0 && size < n && rng.next() < epsilon) {
        // Swap the last slot for a uniformly random explorable candidate outside the top-k: a bounded share of
        // traffic for discovery (only on this rare branch is the O(n k) count paid).
        const outside = explorableOutside(chosen);
        if (outside > 0) {
          let skip = rng.int(outside);
          for (let c = 0; c < n; c++) {
            if (!explorable[c] || chosen.includes(c)) continue;
            if (skip-- === 0) {
              chosen[size - 1] = c;
              break;
            }
          }
        }
      }
      let max = Number.NEGATIVE_INFINITY;
      for (const c of chosen) max = Math.max(max, base[c] ?? 0);
      const weights = Array.from(chosen, (c) => Math.exp((base[c] ?? 0) - max));
      const z = weights.reduce((a, b) => a + b, 0);
      return {
        uids: Array.from(chosen, (c) => candidates[c] ?? -1),
        gates: weights.map((w) => w / z),
        indices: chosen,
      };
    },
  };
}

/**
 * Prior from validator scores or incentives: log((max(0, s) + floor) / (max + floor)). The best expert gets 0, an
 * expert with nothing gets log(floor / (max + floor)), a strong but finite push away; non-finite counts as 0.
 */
export function priorFromScores(scores: ArrayLike<number>, floor = 1e-3): Float64Array {
  let max = 0;
  for (let c = 0; c < scores.length; c++) {
    const s = scores[c] ?? 0;
    if (Number.isFinite(s) && s > max) max = s;
  }
  return Float64Array.from({ length: scores.length }, (_, c) => {
    const s = scores[c] ?? 0;
    return Math.log(((Number.isFinite(s) && s > 0 ? s : 0) + floor) / (max + floor));
  });
}
