import { describe, expect, it } from "vitest";
import { createEnsembleGame } from "./ensemble-game.ts";
import { allCoalitionValues, exactShapley, shapleyFromTable } from "./exact-shapley.ts";
import { syntheticDigits } from "./testing/synthetic-digits.ts";
import { additiveGame, unanimityGame } from "./testing/toy-games.ts";

describe("exactShapley", () => {
  it("returns the weights of an additive game", () => {
    const { values } = exactShapley(additiveGame([0.5, -0.25, 2, 0]));
    expect(Array.from(values)).toEqual([0.5, -0.25, 2, 0]);
  });

  it("splits unanimity blocks equally among their members", () => {
    const { game, phi } = unanimityGame(5, [
      { members: [0, 1], worth: 1 },
      { members: [1, 2, 3], worth: 3 },
      { members: [4], worth: -0.5 },
    ]);
    const { values } = exactShapley(game);
    values.forEach((v, i) => {
      expect(v).toBeCloseTo(phi[i] ?? Number.NaN, 12);
    });
  });

  it("solves the textbook glove game: one left glove, two right gloves", () => {
    // v(S) = 1 when S holds the left glove (0) and a right glove (1 or 2): phi = (2/3, 1/6, 1/6).
    const table = new Float64Array([0, 0, 0, 1, 0, 1, 0, 1]);
    const phi = shapleyFromTable(table, 3);
    expect(phi[0]).toBeCloseTo(2 / 3, 15);
    expect(phi[1]).toBeCloseTo(1 / 6, 15);
    expect(phi[2]).toBeCloseTo(1 / 6, 15);
  });

  it("is efficient to 1e-9 on an ensemble of 12 synthetic experts", () => {
    const kinds = [
      "spec04",
      "spec59",
      "weakGeneralist",
      "copy:0",
      "adversarial",
      "noise",
      "weakGeneralist",
      "noise",
      "spec59",
      "adversarial",
      "weakGeneralist",
      "spec04",
    ] as const;
    const { outputs, labels } = syntheticDigits(kinds, 300, 3);
    const game = createEnsembleGame({ outputs, labels, metric: "brier" });
    const { values, vAll, vEmpty } = exactShapley(game);
    const sum = values.reduce((s, v) => s + v, 0);
    expect(Math.abs(sum - (vAll - vEmpty))).toBeLessThan(1e-9);
    // Symmetry: an exact copy earns exactly what its original earns.
    expect(values[3]).toBeCloseTo(values[0] ?? Number.NaN, 12);
  });

  it("fills the coalition table with the same values a from-scratch evaluation gives", () => {
    const { outputs, labels } = syntheticDigits(["spec04", "noise", "adversarial", "weakGeneralist"], 50, 9);
    const game = createEnsembleGame({ outputs, labels, metric: "neg-brier" });
    const table = allCoalitionValues(game);
    for (let mask = 0; mask < 16; mask++) {
      const members = [0, 1, 2, 3].filter((p) => (mask & (1 << p)) !== 0);
      expect(table[mask]).toBeCloseTo(plainMeanNegBrier(outputs.probs, members, labels), 12);
    }
  });
});

/** Independent reference: mean over items of -Brier of the plain mean of the members' rows. */
function plainMeanNegBrier(probs: ArrayLike<number>, members: readonly number[], labels: Int32Array): number {
  const items = labels.length;
  let total = 0;
  for (let i = 0; i < items; i++) {
    let brier = 0;
    for (let c = 0; c < 10; c++) {
      let p = 0.1;
      if (members.length > 0) {
        p = 0;
        for (const e of members) p += (probs[(e * items + i) * 10 + c] ?? 0) / members.length;
      }
      brier += (p - (c === labels[i] ? 1 : 0)) ** 2;
    }
    total -= brier;
  }
  return total / items;
}
