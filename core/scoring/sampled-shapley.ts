import { mulberry32, shuffledIndices } from "../tasks/prng.ts";
import { ScoringInputError } from "./expert-outputs.ts";
import type { CoalitionGame } from "./game.ts";

export interface SampledShapleyOptions {
  /** PRNG seed: the same seed and game give the same estimate bit for bit. */
  readonly seed: number;
  /** Stop once every player's standard error is at most this (quality units). Default 1e-3. */
  readonly targetStandardError?: number;
  /** Hard cap on permutations (an antithetic pair counts 2). Default 2000. */
  readonly maxPermutations?: number;
  /** Permutations before the stopping rule may fire, so the error estimate itself is meaningful. Default 32. */
  readonly minPermutations?: number;
  /**
   * Ghorbani & Zou truncation: stop walking a permutation once |v(N) - v(prefix)| < this, and give the rest 0.
   * Default 0 (off): ensemble quality is not monotone (an adversarial expert lowers it), so truncation biases
   * whoever tends to come late; turn it on only with a tolerance at the noise level of v(N).
   */
  readonly truncationTolerance?: number;
}

export interface SampledShapley {
  readonly values: Float64Array;
  /** Standard error of each value, from the spread of antithetic pair means. */
  readonly standardErrors: Float64Array;
  readonly permutations: number;
  /** Calls of v (pushes evaluated), to compare with n * permutations without truncation. */
  readonly evaluations: number;
  readonly vEmpty: number;
  readonly vAll: number;
}

/**
 * Permutation-sampling Shapley (Castro, Gomez & Tejada 2009): each permutation adds players one at a time and gives
 * each its marginal v(prefix + i) - v(prefix). Permutations come in antithetic pairs (a random order and its reverse):
 * a player early in one is late in the other, which cancels much of the position-driven variance. The pair mean is
 * the unit of sampling, so the reported standard error is honest about the pairing.
 */
export function sampledShapley(game: CoalitionGame, options: SampledShapleyOptions): SampledShapley {
  const n = game.players;
  const target = options.targetStandardError ?? 1e-3;
  const maxPermutations = Math.max(2, options.maxPermutations ?? 2000);
  const minPermutations = Math.min(maxPermutations, Math.max(4, options.minPermutations ?? 32));
  const tolerance = options.truncationTolerance ?? 0;
  if (!(target >= 0) || !(tolerance >= 0)) throw new ScoringInputError("error target and tolerance must be >= 0");
  const rng = mulberry32(options.seed);

  game.reset();
  const vEmpty = game.value();
  for (let p = 0; p < n; p++) game.push(p);
  const vAll = game.value();
  game.reset();

  // Welford running mean and sum of squared deviations of the pair means (stable when the spread is tiny).
  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);
  const first = new Float64Array(n);
  const second = new Float64Array(n);
  let evaluations = 0;
  let pairs = 0;

  const walk = (order: readonly number[], reversed: boolean, out: Float64Array): void => {
    out.fill(0);
    game.reset();
    let previous = vEmpty;
    for (let k = 0; k < n; k++) {
      if (tolerance > 0 && Math.abs(vAll - previous) < tolerance) break;
      const p = order[reversed ? n - 1 - k : k] ?? 0;
      game.push(p);
      const current = game.value();
      evaluations++;
      out[p] = current - previous;
      previous = current;
    }
    game.reset();
  };

  const standardErrors = new Float64Array(n);
  const updateErrors = (): number => {
    let worst = 0;
    for (let p = 0; p < n; p++) {
      const variance = pairs > 1 ? (m2[p] ?? 0) / (pairs - 1) : Number.POSITIVE_INFINITY;
      const se = Math.sqrt(variance / pairs);
      standardErrors[p] = se;
      if (se > worst) worst = se;
    }
    return worst;
  };

  while (n > 0 && 2 * (pairs + 1) <= maxPermutations) {
    const order = shuffledIndices(n, rng);
    walk(order, false, first);
    walk(order, true, second);
    pairs++;
    for (let p = 0; p < n; p++) {
      const x = ((first[p] ?? 0) + (second[p] ?? 0)) / 2;
      const before = mean[p] ?? 0;
      const after = before + (x - before) / pairs;
      mean[p] = after;
      m2[p] = (m2[p] ?? 0) + (x - before) * (x - after);
    }
    if (2 * pairs >= minPermutations && updateErrors() <= target) break;
  }
  if (pairs > 0) updateErrors();
  return { values: mean, standardErrors, permutations: 2 * pairs, evaluations, vEmpty, vAll };
}
