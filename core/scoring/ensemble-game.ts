import {
  type CleanOutputs,
  checkGates,
  checkLabels,
  cleanOutputs,
  type ExpertOutputs,
  ScoringInputError,
} from "./expert-outputs.ts";
import type { CoalitionGame } from "./game.ts";
import { mixtureQuality, type QualityMetric, uniformQuality } from "./quality.ts";

/**
 * How a coalition S answers an item:
 * - `renormalised`: the gate-weighted average of S's members, gates renormalised within S (the plain mean when no
 *   gates are given). If no member of S has a positive gate on the item, S answers the uniform prior: nobody it
 *   would consult knows anything about that item.
 * - `absent-uniform`: every expert of the full set keeps its gate, and an expert outside S answers the uniform
 *   prior. An expert the router never picks is then a null player (value exactly 0), as MODELS.md's third game.
 */
export type GameVariant = "renormalised" | "absent-uniform";

export interface EnsembleGameInput {
  readonly outputs: ExpertOutputs;
  /** Class index per item. */
  readonly labels: ArrayLike<number>;
  /** `gates[e * items + i]`, see checkGates; omitted = plain mean. */
  readonly gates?: ArrayLike<number>;
  readonly metric: QualityMetric;
  readonly variant?: GameVariant;
  /** Which experts are the game's players (player k = expert players[k]); default all, in order. */
  readonly players?: readonly number[];
}

/** v(S) = mean over items of the quality of S's answer; v(empty) = quality of the uniform prior. */
export function createEnsembleGame(input: EnsembleGameInput): CoalitionGame {
  const clean: CleanOutputs = cleanOutputs(input.outputs);
  const { items, classes } = clean;
  const labels = checkLabels(input.labels, items, classes);
  const gates = checkGates(input.gates, clean.experts, items);
  const players = input.players ?? Array.from({ length: clean.experts }, (_, e) => e);
  for (const e of players) {
    if (!Number.isInteger(e) || e < 0 || e >= clean.experts) throw new ScoringInputError(`player expert ${e} unknown`);
  }
  if (new Set(players).size !== players.length) throw new ScoringInputError("a player is listed twice");
  const variant = input.variant ?? "renormalised";
  const metric = input.metric;
  const width = items * classes;
  const uniform = 1 / classes;
  const emptyQuality = uniformQuality(metric, classes);

  // Level d of the stack holds the coalition of the first d pushed players: num = sum gate * answer, den = sum gate.
  const nums: Float64Array[] = [new Float64Array(width)];
  const dens: Float64Array[] = [new Float64Array(items)];
  const values: number[] = [Number.NaN];
  if (variant === "absent-uniform") {
    // Base: every player answers the uniform prior with its own gate; pushing e swaps its prior for its answer.
    const base = nums[0] ?? new Float64Array(width);
    const den = dens[0] ?? new Float64Array(items);
    for (const e of players) {
      for (let i = 0; i < items; i++) den[i] = (den[i] ?? 0) + (gates[e * items + i] ?? 0);
    }
    for (let i = 0; i < items; i++) base.fill((den[i] ?? 0) * uniform, i * classes, (i + 1) * classes);
  }
  const inCoalition = new Uint8Array(players.length);
  const stack: number[] = [];

  const level = (d: number): [Float64Array, Float64Array] => {
    let num = nums[d];
    let den = dens[d];
    if (num === undefined || den === undefined) {
      num = new Float64Array(width);
      den = new Float64Array(items);
      nums[d] = num;
      dens[d] = den;
    }
    return [num, den];
  };

  return {
    players: players.length,
    reset() {
      for (const p of stack) inCoalition[p] = 0;
      stack.length = 0;
    },
    push(player) {
      const e = players[player];
      if (e === undefined || inCoalition[player] === 1) throw new ScoringInputError(`cannot add player ${player}`);
      const d = stack.length;
      const [fromNum, fromDen] = level(d);
      const [toNum, toDen] = level(d + 1);
      const probs = clean.probs;
      const rowBase = e * items;
      for (let i = 0; i < items; i++) {
        const g = gates[rowBase + i] ?? 0;
        const o = i * classes;
        const p = (rowBase + i) * classes;
        if (variant === "renormalised") {
          toDen[i] = (fromDen[i] ?? 0) + g;
          for (let c = 0; c < classes; c++) toNum[o + c] = (fromNum[o + c] ?? 0) + g * (probs[p + c] ?? 0);
        } else {
          toDen[i] = fromDen[i] ?? 0;
          for (let c = 0; c < classes; c++) toNum[o + c] = (fromNum[o + c] ?? 0) + g * ((probs[p + c] ?? 0) - uniform);
        }
      }
      values[d + 1] = Number.NaN;
      stack.push(player);
      inCoalition[player] = 1;
    },
    pop() {
      const p = stack.pop();
      if (p !== undefined) inCoalition[p] = 0;
    },
    value() {
      const d = stack.length;
      const cached = values[d];
      if (cached !== undefined && !Number.isNaN(cached)) return cached;
      const [num, den] = level(d);
      let total = 0;
      for (let i = 0; i < items; i++) {
        const w = den[i] ?? 0;
        total += w > 0 ? mixtureQuality(metric, num, i * classes, classes, w, labels[i] ?? 0) : emptyQuality;
      }
      const v = items === 0 ? emptyQuality : total / items;
      values[d] = v;
      return v;
    },
  };
}
