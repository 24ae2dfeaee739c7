import { describe, expect, it } from "vitest";
import { initGate } from "../../core/routing/index.ts";
import type { ExpertScore } from "../../core/scores/schema.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import type { DirectoryExpert } from "../api/deps.ts";
import { payable } from "./router.ts";

// The demo roster's kinds, by uid: 1 spec04, 2 spec59, 3 copy04 (of 1), 4 adversarial, 5 noise, 6 weak-generalist.
const experts: DirectoryExpert[] = [1, 2, 3, 4, 5, 6].map((uid) => ({
  uid,
  hotkey: `hk${uid}`,
  task: "digits",
  weight: 0,
  incentive: 0,
  shapley: 0,
  active: true,
}));
const uids = (list: readonly DirectoryExpert[]) => list.map((e) => e.uid);
const row = (uid: number, ema: number, copyOf: number | null = null): ExpertScore => ({
  uid,
  hotkey: `hk${uid}`,
  shapley: ema,
  ema,
  accuracy: 0.5,
  brier: 0.5,
  answered: 64,
  items: 64,
  copyOf,
});

describe("who a client may be charged for", () => {
  // The build gate admits only experts with a positive value on the router rows that copy nobody.
  const buildGate = initGate(4, 2, [1, 2, 6], mulberry32(1));

  it("before any epoch: only the experts the build gate admitted, so not the copy, the adversary or the noise", () => {
    expect(uids(payable(experts, buildGate, null))).toEqual([1, 2, 6]);
  });

  it("once scored: a positive EMA, no copy, and a logit in the gate", () => {
    const everyone = initGate(4, 2, [1, 2, 3, 4, 5, 6], mulberry32(2));
    const scores = {
      task: "digits",
      epoch: 3,
      at: 0,
      rows: [row(1, 0.2), row(2, 0.15), row(3, 0, 1), row(4, -0.1), row(5, 0.001), row(6, 0.05)],
    };
    // The noise source that scored a hair above zero by chance may answer; the gate ranks it last anyway.
    expect(uids(payable(experts, everyone, scores))).toEqual([1, 2, 5, 6]);
    // An expert scored positive but not (yet) in the gate waits for the next gate: the validator bootstraps it.
    expect(uids(payable(experts, buildGate, scores))).toEqual([1, 2, 6]);
  });

  it("without any gate, every expert but the copies; with nobody qualified, every expert but the copies", () => {
    expect(uids(payable(experts, null, null))).toEqual([1, 2, 3, 4, 5, 6]);
    const allBad = {
      task: "digits",
      epoch: 1,
      at: 0,
      rows: experts.map((e) => row(e.uid, e.uid === 3 ? 0 : -1, e.uid === 3 ? 1 : null)),
    };
    expect(uids(payable(experts, buildGate, allBad))).toEqual([1, 2, 4, 5, 6]);
  });
});
