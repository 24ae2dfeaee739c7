import { describe, expect, it } from "vitest";
import { createEnsembleGame } from "./ensemble-game.ts";
import { exactShapley } from "./exact-shapley.ts";
import { sampledShapley } from "./sampled-shapley.ts";
import { syntheticDigits } from "./testing/synthetic-digits.ts";
import { additiveGame, unanimityGame } from "./testing/toy-games.ts";

const TWELVE = [
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

describe("sampledShapley", () => {
  it("lands within 3 of its own standard errors of the exact values on a 12-expert ensemble", () => {
    const { outputs, labels } = syntheticDigits(TWELVE, 400, 21);
    const game = createEnsembleGame({ outputs, labels, metric: "brier" });
    const exact = exactShapley(game);
    const estimate = sampledShapley(game, { seed: 5, targetStandardError: 1e-3, maxPermutations: 3000 });
    expect(estimate.permutations).toBeGreaterThanOrEqual(32);
    exact.values.forEach((phi, i) => {
      const se = estimate.standardErrors[i] ?? Number.NaN;
      expect(se).toBeGreaterThan(0);
      expect(Math.abs((estimate.values[i] ?? Number.NaN) - phi)).toBeLessThanOrEqual(3 * se);
    });
    expect(estimate.vAll).toBeCloseTo(exact.vAll, 12);
  });

  it("stops on the error target before the permutation cap", () => {
    const { outputs, labels } = syntheticDigits(TWELVE, 200, 2);
    const game = createEnsembleGame({ outputs, labels, metric: "brier" });
    const loose = sampledShapley(game, { seed: 1, targetStandardError: 5e-3, maxPermutations: 5000 });
    expect(loose.permutations).toBeLessThan(5000);
    expect(Math.max(...loose.standardErrors)).toBeLessThanOrEqual(5e-3);
    const capped = sampledShapley(game, { seed: 1, targetStandardError: 0, maxPermutations: 40 });
    expect(capped.permutations).toBe(40);
  });

  it("is reproducible from its seed and changes with it", () => {
    const { outputs, labels } = syntheticDigits(TWELVE, 100, 4);
    const game = createEnsembleGame({ outputs, labels, metric: "brier" });
    const a = sampledShapley(game, { seed: 9, maxPermutations: 20 });
    const b = sampledShapley(game, { seed: 9, maxPermutations: 20 });
    const c = sampledShapley(game, { seed: 10, maxPermutations: 20 });
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.values)).not.toEqual(Array.from(c.values));
  });

  it("is exact with zero error on an additive game of 64 players (every marginal is constant)", () => {
    const weights = Array.from({ length: 64 }, (_, i) => ((i * 37) % 11) / 10 - 0.5);
    const estimate = sampledShapley(additiveGame(weights), { seed: 3, maxPermutations: 64 });
    estimate.values.forEach((v, i) => {
      expect(v).toBeCloseTo(weights[i] ?? Number.NaN, 12);
    });
    expect(Math.max(...estimate.standardErrors)).toBeLessThan(1e-12);
    expect(estimate.permutations).toBe(32);
  });

  it("covers the analytic values of a 40-player unanimity game", () => {
    const blocks = Array.from({ length: 10 }, (_, b) => ({
      members: [b, (b * 7 + 3) % 40, (b * 13 + 5) % 40].filter((m, k, all) => all.indexOf(m) === k),
      worth: (b % 3) - 0.5,
    }));
    const { game, phi } = unanimityGame(40, blocks);
    const estimate = sampledShapley(game, { seed: 8, targetStandardError: 0.01, maxPermutations: 4000 });
    phi.forEach((p, i) => {
      const se = Math.max(estimate.standardErrors[i] ?? 0, 1e-12);
      expect(Math.abs((estimate.values[i] ?? Number.NaN) - p)).toBeLessThanOrEqual(4 * se);
    });
  });

  it("truncation skips evaluations once the prefix is within tolerance of v(N)", () => {
    // A saturating game: anyone of players 0..4 alone reaches v(N); later marginals are zero.
    const weights = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    const saturating = additiveGame(weights);
    const capped = { ...saturating, value: () => Math.min(1, saturating.value()) };
    const full = sampledShapley(capped, { seed: 2, maxPermutations: 40, targetStandardError: 0 });
    const truncated = sampledShapley(capped, {
      seed: 2,
      maxPermutations: 40,
      targetStandardError: 0,
      truncationTolerance: 1e-9,
    });
    expect(truncated.evaluations).toBeLessThan(full.evaluations);
    expect(Array.from(truncated.values)).toEqual(Array.from(full.values));
  });
});
