import { ScoringInputError } from "./expert-outputs.ts";
import type { CoalitionGame } from "./game.ts";

/** Above this the 2^n table (and its time) is too large; use sampledShapley. */
export const EXACT_SHAPLEY_MAX_PLAYERS = 20;

/**
 * v(S) for every subset S, indexed by bitmask (bit k = player k). Depth-first over subsets in which each child adds a
 * player above the parent's highest one, so S is built from S minus its highest bit: every subset costs one push
 * (O(items * classes)) plus one evaluation, never a rebuild from scratch.
 */
export function allCoalitionValues(game: CoalitionGame): Float64Array {
  const n = game.players;
  if (n > EXACT_SHAPLEY_MAX_PLAYERS) throw new ScoringInputError(`exact Shapley over ${n} players is too large`);
  const v = new Float64Array(2 ** n);
  game.reset();
  v[0] = game.value();
  const visit = (mask: number, from: number): void => {
    for (let p = from; p < n; p++) {
      game.push(p);
      const child = mask | (1 << p);
      v[child] = game.value();
      visit(child, p + 1);
      game.pop();
    }
  };
  visit(0, 0);
  game.reset();
  return v;
}

/** phi_i = sum over S not containing i of |S|!(n-|S|-1)!/n! * (v(S + i) - v(S)). */
export function shapleyFromTable(v: Float64Array, n: number): Float64Array {
  if (v.length !== 2 ** n) throw new ScoringInputError(`table has ${v.length} entries, expected 2^${n}`);
  const phi = new Float64Array(n);
  if (n === 0) return phi;
  // weight(s) = 1 / (n * C(n-1, s)), built by the ratio C(n-1, s+1) = C(n-1, s) * (n-1-s) / (s+1).
  const weight = new Float64Array(n);
  let binom = 1;
  for (let s = 0; s < n; s++) {
    weight[s] = 1 / (n * binom);
    binom = (binom * (n - 1 - s)) / (s + 1);
  }
  const full = v.length;
  for (let mask = 0; mask < full; mask++) {
    const w = weight[popcount(mask)] ?? 0;
    const base = v[mask] ?? 0;
    for (let i = 0; i < n; i++) {
      const bit = 1 << i;
      if ((mask & bit) === 0) phi[i] = (phi[i] ?? 0) + w * ((v[mask | bit] ?? 0) - base);
    }
  }
  return phi;
}

export interface ExactShapley {
  readonly values: Float64Array;
  readonly vEmpty: number;
  readonly vAll: number;
}

/** Exact Shapley values; efficiency (sum = v(N) - v(empty)) holds to rounding. */
export function exactShapley(game: CoalitionGame): ExactShapley {
  const v = allCoalitionValues(game);
  return { values: shapleyFromTable(v, game.players), vEmpty: v[0] ?? 0, vAll: v[v.length - 1] ?? 0 };
}

function popcount(x: number): number {
  let c = 0;
  let y = x;
  while (y !== 0) {
    y &= y - 1;
    c++;
  }
  return c;
}
