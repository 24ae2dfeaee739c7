import { describe, expect, it } from "vitest";
import { createEnsembleGame } from "./ensemble-game.ts";
import { exactShapley } from "./exact-shapley.ts";
import { ScoringInputError } from "./expert-outputs.ts";
import { uniformQuality } from "./quality.ts";

// Two items, three classes, two experts. Expert 0 is sure and right; expert 1 is sure and wrong on item 0.
const outputs = {
  experts: 2,
  items: 2,
  classes: 3,
  probs: new Float64Array([1, 0, 0, 0, 1, 0, /* expert 1 */ 0, 0, 1, 0, 1, 0]),
};
const labels = [0, 1];

function coalitionValue(game: ReturnType<typeof createEnsembleGame>, members: number[]): number {
  game.reset();
  for (const p of members) game.push(p);
  return game.value();
}

describe("createEnsembleGame", () => {
  it("values the empty coalition at the uniform prior", () => {
    const game = createEnsembleGame({ outputs, labels, metric: "brier" });
    expect(coalitionValue(game, [])).toBeCloseTo(uniformQuality("brier", 3), 15);
    // Brier of (1/3,1/3,1/3) against a one-hot label is 2/3, so quality is 1 - 1/3.
    expect(uniformQuality("brier", 3)).toBeCloseTo(2 / 3, 15);
    expect(uniformQuality("accuracy", 3)).toBeCloseTo(1 / 3, 15);
  });

  it("averages members: (1,0,0) and (0,0,1) give (.5,0,.5), Brier 0.5 on label 0", () => {
    const game = createEnsembleGame({ outputs, labels, metric: "neg-brier" });
    expect(coalitionValue(game, [0])).toBe(0);
    expect(coalitionValue(game, [1])).toBe(-1); // item 0: Brier 2, item 1: 0
    expect(coalitionValue(game, [0, 1])).toBeCloseTo(-0.25, 15); // item 0: 0.25 + 0 + 0.25, item 1: 0
  });

  it("renormalises gates within the coalition", () => {
    // Gates [e * items + i]: expert 0 gets 3, expert 1 gets 1 on item 0; the mixture on item 0 is (.75, 0, .25).
    const gates = [3, 1, 1, 1];
    const game = createEnsembleGame({ outputs, labels, gates, metric: "neg-brier" });
    expect(coalitionValue(game, [0, 1])).toBeCloseTo(-(0.25 ** 2 + 0.25 ** 2) / 2, 15);
    expect(coalitionValue(game, [1])).toBe(-1); // alone, any positive gate is weight 1
  });

  it("lets a coalition whose members all have zero gate on an item answer the prior there", () => {
    const gates = [1, 1, 0, 1];
    const game = createEnsembleGame({ outputs, labels, gates, metric: "neg-brier" });
    expect(coalitionValue(game, [1])).toBeCloseTo(-(2 / 3) / 2, 15);
  });

  it("absent-uniform: an expert the router never picks is a null player", () => {
    const gates = [1, 1, 0, 0];
    const game = createEnsembleGame({ outputs, labels, gates, metric: "brier", variant: "absent-uniform" });
    const { values } = exactShapley(game);
    expect(values[1]).toBe(0);
    expect(values[0]).toBeGreaterThan(0);
    // Absent member answers the prior: with both gates 1, {0} on item 0 mixes (1,0,0) with (1/3,1/3,1/3).
    const even = createEnsembleGame({ outputs, labels, metric: "neg-brier", variant: "absent-uniform" });
    const mix = [2 / 3, 1 / 6, 1 / 6];
    const brier0 = ((mix[0] ?? 0) - 1) ** 2 + (mix[1] ?? 0) ** 2 + (mix[2] ?? 0) ** 2;
    expect(coalitionValue(even, [0])).toBeCloseTo(-brier0, 15);
  });

  it("counts a missing, non-finite or all-zero answer as the uniform prior", () => {
    const probs = new Float64Array([Number.NaN, 0, 0, 0, 0, 0, 5, 5, 5, 1, 1, 1]);
    const answered = new Uint8Array([1, 1, 0, 1]);
    const game = createEnsembleGame({
      outputs: { ...outputs, probs, answered },
      labels,
      metric: "brier",
    });
    expect(coalitionValue(game, [0])).toBeCloseTo(uniformQuality("brier", 3), 15);
    expect(coalitionValue(game, [1])).toBeCloseTo(uniformQuality("brier", 3), 15);
  });

  it("rescales an answer that does not sum to one, so no expert outweighs the others", () => {
    const probs = new Float64Array([1e9, 0, 0, 0, 1e9, 0, 0, 0, 1, 0, 1, 0]);
    const scaled = createEnsembleGame({ outputs: { ...outputs, probs }, labels, metric: "neg-brier" });
    expect(coalitionValue(scaled, [0, 1])).toBeCloseTo(-0.25, 12);
    const negative = new Float64Array([2, -1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0]);
    const clamped = createEnsembleGame({ outputs: { ...outputs, probs: negative }, labels, metric: "neg-brier" });
    expect(coalitionValue(clamped, [0])).toBe(0);
  });

  it("gives ties in accuracy shared credit", () => {
    const probs = new Float64Array([0.5, 0.5, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0]);
    const game = createEnsembleGame({ outputs: { ...outputs, probs }, labels, metric: "accuracy" });
    expect(coalitionValue(game, [0])).toBeCloseTo((0.5 + 1) / 2, 15);
  });

  it("rejects shapes that do not match", () => {
    expect(() => createEnsembleGame({ outputs, labels: [0], metric: "brier" })).toThrow(ScoringInputError);
    expect(() => createEnsembleGame({ outputs, labels: [0, 3], metric: "brier" })).toThrow(ScoringInputError);
    expect(() => createEnsembleGame({ outputs, labels, gates: [1], metric: "brier" })).toThrow(ScoringInputError);
    expect(() =>
      createEnsembleGame({ outputs: { ...outputs, probs: new Float64Array(3) }, labels, metric: "brier" }),
    ).toThrow(ScoringInputError);
    expect(() => createEnsembleGame({ outputs, labels, metric: "brier", players: [0, 0] })).toThrow(ScoringInputError);
  });
});
