import { describe, expect, it } from "vitest";
import { type EpochExpert, scoreEpoch } from "./score-epoch.ts";
import { syntheticDigits } from "./testing/synthetic-digits.ts";

// MODELS.md section 4's cast: two specialists, a weak generalist, a byte copy of spec04, an adversary, noise.
const KINDS = ["spec04", "spec59", "weakGeneralist", "copy:0", "adversarial", "noise"] as const;
const ITEMS = 1000;

function experts(count: number): EpochExpert[] {
  // The copy (index 3) registered later than the original (index 0).
  return Array.from({ length: count }, (_, e) => ({
    uid: e,
    hotkey: `hotkey-${e}`,
    registrationBlock: 100 + e * 10,
  }));
}

describe("scoreEpoch on synthetic digit experts", () => {
  const { outputs, labels } = syntheticDigits(KINDS, ITEMS, 7);

  it("pays useful experts, charges the adversary and leaves noise near zero (plain mean, Brier)", () => {
    const result = scoreEpoch({ experts: experts(KINDS.length), outputs, labels, metric: "brier" });
    const phi = result.rows.map((r) => r.shapley);
    const [spec04 = 0, spec59 = 0, weak = 0, copy = 0, adversarial = 0, noise = 0] = phi;
    expect(result.method).toBe("exact");
    expect(spec04).toBeGreaterThan(0);
    expect(spec59).toBeGreaterThan(0);
    expect(weak).toBeGreaterThan(0);
    expect(adversarial).toBeLessThan(0);
    expect(Math.abs(noise)).toBeLessThan(0.2 * Math.min(spec04, spec59));
    expect(copy).toBe(0);
    expect(result.rows[3]?.copyOf).toBe(0);
    expect(result.players).toBe(5);
  });

  it("keeps the adversary below zero under accuracy too", () => {
    const result = scoreEpoch({ experts: experts(KINDS.length), outputs, labels, metric: "accuracy" });
    expect(result.rows[4]?.shapley).toBeLessThan(0);
    expect(result.rows[0]?.shapley).toBeGreaterThan(0);
  });

  it("gives original + copy together no more than the original earns alone", () => {
    const withCopy = scoreEpoch({ experts: experts(KINDS.length), outputs, labels });
    // The same epoch had the copier never registered: drop expert 3's answers.
    const width = ITEMS * 10;
    const probs = new Float64Array(5 * width);
    probs.set(outputs.probs.subarray(0, 3 * width), 0);
    probs.set(outputs.probs.subarray(4 * width), 3 * width);
    const withoutCopy = { experts: 5, items: ITEMS, classes: 10, probs };
    const originalAlone = scoreEpoch({ experts: experts(5), outputs: withoutCopy, labels });
    const together = (withCopy.rows[0]?.shapley ?? 0) + (withCopy.rows[3]?.shapley ?? 0);
    expect(together).toBeLessThanOrEqual((originalAlone.rows[0]?.shapley ?? 0) + 1e-12);
  });

  it("without copy detection the copies split the credit (why detection is needed)", () => {
    const naive = scoreEpoch({ experts: experts(KINDS.length), outputs, labels, duplicates: false });
    expect(naive.rows[0]?.shapley).toBeCloseTo(naive.rows[3]?.shapley ?? Number.NaN, 12);
    expect(naive.rows[3]?.copyOf).toBeNull();
  });

  it("pays the first registered member, whatever the expert order", () => {
    const records = experts(KINDS.length).map((r, e) => (e === 3 ? { ...r, registrationBlock: 5 } : r));
    const result = scoreEpoch({ experts: records, outputs, labels });
    expect(result.rows[0]?.shapley).toBe(0);
    expect(result.rows[0]?.copyOf).toBe(3);
    expect(result.rows[3]?.shapley).toBeGreaterThan(0);
  });

  it("satisfies efficiency over the players to 1e-9", () => {
    const result = scoreEpoch({ experts: experts(KINDS.length), outputs, labels });
    const sum = result.rows.reduce((s, r) => s + r.shapley, 0);
    expect(Math.abs(sum - (result.vAll - result.vEmpty))).toBeLessThan(1e-9);
  });

  it("reports solo statistics in the stored ExpertScore units", () => {
    const result = scoreEpoch({ experts: experts(KINDS.length), outputs, labels });
    const adversarial = result.rows[4];
    expect(adversarial?.accuracy).toBeLessThan(0.05);
    expect(result.rows[0]?.accuracy).toBeGreaterThan(0.4);
    expect(result.rows[0]?.answered).toBe(ITEMS);
    for (const row of result.rows) expect(row.brier).toBeGreaterThanOrEqual(0);
  });

  it("switches to sampling above the exact limit and still flags the copy", () => {
    const result = scoreEpoch({
      experts: experts(KINDS.length),
      outputs,
      labels,
      exactMaxPlayers: 3,
      sampling: { seed: 11, targetStandardError: 2e-3, maxPermutations: 400 },
    });
    expect(result.method).toBe("sampled");
    expect(result.permutations).toBeGreaterThan(0);
    expect(result.rows[3]?.shapley).toBe(0);
    expect(result.rows[4]?.shapley).toBeLessThan(0);
  });
});
