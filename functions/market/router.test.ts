import { describe, expect, it } from "vitest";
import { MemoryScoreStore } from "../../adapters/tables/memory-scores.ts";
import { initGate, storedRouter } from "../../core/routing/index.ts";
import type { ExpertScore } from "../../core/scores/schema.ts";
import type { MediaDecoders } from "../../core/tasks/decoders.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import { createTaskRegistry } from "../../core/tasks/registry.ts";
import type { DirectoryExpert } from "../api/deps.ts";
import { marketRouter, newcomers, payable } from "./router.ts";

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

describe("the exploration lane's newcomers", () => {
  const buildGate = initGate(4, 2, [1, 2, 6], mulberry32(1));
  const newcomer: DirectoryExpert = { ...experts[0], uid: 9, hotkey: "hk9" } as DirectoryExpert;
  const roster = [...experts, newcomer];

  it("are the served experts neither scored nor in the gate nor already answering", () => {
    const scores = { task: "digits", epoch: 2, at: 0, rows: [row(3, 0, 1), row(4, -0.1), row(5, 0.001)] };
    expect(uids(newcomers(roster, buildGate, scores, []))).toEqual([9]);
    // Without a gate every unscored expert is payable already: nobody to explore.
    expect(newcomers(roster, null, scores, [])).toEqual([]);
    // Once the validator scored it (a row, copy or not), it is no newcomer; nor when it already answers.
    expect(newcomers(roster, buildGate, { ...scores, rows: [...scores.rows, row(9, 0.1)] }, [])).toEqual([]);
    expect(newcomers(roster, buildGate, scores, [{ uid: 9, hotkey: "hk9", gate: 0 }])).toEqual([]);
    // A row of an epoch in which none of its answers arrived (a backlog) judged nothing: it is still new.
    const unanswered = { ...row(9, 0), answered: 0 };
    expect(uids(newcomers(roster, buildGate, { ...scores, rows: [...scores.rows, unanswered] }, []))).toEqual([9]);
  });

  it("joins a query with the configured share, up to the cap of recorded shadow answers", async () => {
    const scores = new MemoryScoreStore();
    await scores.putRouter({ task: "digits", version: 1, epoch: 0, at: 0, params: storedRouter(buildGate) });
    // The copy, the adversary and the noise source were scored: only uid 9 is new.
    await scores.putEpochScores({ task: "digits", epoch: 2, at: 0, rows: [row(3, 0, 1), row(4, -0.1), row(5, 0.001)] });
    const directory = {
      experts: async () => roster,
      metagraph: async () => ({ netuid: 1, block: 0, experts: roster }),
    };
    const registry = createTaskRegistry({} as MediaDecoders);
    let draw = 0;
    const router = (share: number, cap: number) =>
      marketRouter({ registry, directory, scores, refreshMs: 0, explore: { share, cap, random: () => draw } });
    draw = 0.05;
    expect(await router(0.1, 2).explore?.("digits", [])).toEqual([{ uid: 9, hotkey: "hk9", gate: 0 }]);
    draw = 0.5;
    expect(await router(0.1, 2).explore?.("digits", [])).toEqual([]);
    draw = 0.05;
    expect(await router(0, 2).explore?.("digits", [])).toEqual([]);
    for (const jobId of ["j1", "j2"])
      await scores.recordShadowAnswer({
        hotkey: "hk9",
        uid: 9,
        task: "digits",
        jobId,
        requestId: `r-${jobId}`,
        modelSha256: "ab".repeat(32),
        at: 0,
      });
    expect(await router(0.1, 2).explore?.("digits", [])).toEqual([]);
    expect(await router(0.1, 3).explore?.("digits", [])).toHaveLength(1);
  });

  it("reads the gate, the scores and a newcomer's count once per refresh, however many queries miss together", async () => {
    const scores = new MemoryScoreStore();
    await scores.putRouter({ task: "digits", version: 1, epoch: 0, at: 0, params: storedRouter(buildGate) });
    await scores.putEpochScores({ task: "digits", epoch: 2, at: 0, rows: [row(3, 0, 1), row(4, -0.1), row(5, 0.001)] });
    const reads = { router: 0, scores: 0, shadow: 0 };
    const counted = Object.assign(Object.create(scores), {
      latestRouter: (task: string) => {
        reads.router++;
        return scores.latestRouter(task);
      },
      latestScores: (task: string) => {
        reads.scores++;
        return scores.latestScores(task);
      },
      shadowAnswerCount: (hotkey: string, cap: number) => {
        reads.shadow++;
        return scores.shadowAnswerCount(hotkey, cap);
      },
    }) as MemoryScoreStore;
    const directory = {
      experts: async () => roster,
      metagraph: async () => ({ netuid: 1, block: 0, experts: roster }),
    };
    let now = 0;
    const router = marketRouter({
      registry: createTaskRegistry({} as MediaDecoders),
      directory,
      scores: counted,
      refreshMs: 5_000,
      now: () => now,
      explore: { share: 1, cap: 5, random: () => 0 },
    });
    const burst = () => Promise.all(Array.from({ length: 64 }, () => router.explore?.("digits", [])));
    expect((await burst()).every((picked) => picked?.[0]?.uid === 9)).toBe(true);
    expect(reads).toEqual({ router: 1, scores: 1, shadow: 1 });
    await burst();
    expect(reads).toEqual({ router: 1, scores: 1, shadow: 1 });
    now += 5_000;
    await burst();
    expect(reads).toEqual({ router: 2, scores: 2, shadow: 2 });
  });
});
