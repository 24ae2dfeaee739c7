import { describe, expect, it } from "vitest";
import { silentLogger } from "../../adapters/log/logger.ts";
import { MemoryScoreStore } from "../../adapters/tables/memory-scores.ts";
import { createRouter, parseStoredGate } from "../../core/routing/index.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import { assembleTrainingData, decodeColumns, EMPTY_TRAINING_STATE, parseTrainingState } from "./router-data.ts";
import { epochSeed, seedToUint32 } from "./seed.ts";
import { trainRouterAfterScoring } from "./train-router.ts";
import type { RouterTrainingDeps, ScoredExpert, ValidationItem, ValidationTask, ValidatorDeps } from "./types.ts";

/**
 * A two-class task whose input says its class (with noise): expert "low" knows class 0 and guesses class 1 wrong,
 * "high" the reverse, "bad" is always wrong. A gate trained on their losses must route by input.
 */
const toyTask: ValidationTask = {
  id: "toy",
  classes: 2,
  metric: "brier",
  drawItems(seed, count) {
    const rng = mulberry32(seedToUint32(seed));
    return Array.from({ length: count }, () => {
      const label = rng.next() < 0.5 ? 0 : 1;
      return { input: [label === 0 ? 1 : 0, label === 1 ? 1 : 0, rng.gaussian() * 0.1], truth: label };
    });
  },
  rows(output, item) {
    const probs = (output as { probs?: number[] } | null)?.probs ?? [0.5, 0.5];
    return { probs: [probs], labels: [Number(item.truth)] };
  },
};

type Kind = "low" | "high" | "bad";
function answer(kind: Kind, item: ValidationItem): { probs: number[] } {
  const label = Number(item.truth);
  const right = kind === "low" ? label === 0 : kind === "high" ? label === 1 : false;
  return { probs: right === (label === 0) ? [0.95, 0.05] : [0.05, 0.95] };
}

const expert = (uid: number, hotkey = `hk${uid}`): ScoredExpert => ({ uid, hotkey, task: "toy", modelSha256: "x" });

function setup(training: RouterTrainingDeps, store = new MemoryScoreStore()) {
  const logs: string[] = [];
  // Only what router training reads (no bootstrap here, so no queue, jobs or signer); the rest is never touched.
  const deps = {
    netuid: 1,
    scores: store,
    now: () => 1000,
    log: { ...silentLogger, warn: (msg: string) => logs.push(msg), info: () => {} },
    config: { itemsPerTask: {}, defaultItems: 40, answerTimeoutMs: 1000, emaAlpha: 0.3, seedSecret: "s" },
    routerTraining: training,
  } as unknown as ValidatorDeps;
  return { deps, store, logs };
}

const training: RouterTrainingDeps = {
  tasks: { toy: { features: (input) => input as number[] } },
  windowEpochs: 3,
  hidden: 8,
  trainingEpochs: 40,
};

async function epoch(deps: ValidatorDeps, n: number, experts: [ScoredExpert, Kind][], items = 60) {
  const drawn = toyTask.drawItems(epochSeed("s", 1, n, "toy"), items);
  return trainRouterAfterScoring(deps, {
    task: toyTask,
    epoch: n,
    experts: experts.map(([x]) => x),
    items: drawn,
    answers: experts.map(([, kind]) => drawn.map((item) => answer(kind, item))),
  });
}

describe("router training in the validator", () => {
  it("trains a gate that routes each input to the expert that answers it well, and stores it versioned", async () => {
    const { deps, store } = setup(training);
    const experts: [ScoredExpert, Kind][] = [
      [expert(3), "low"],
      [expert(5), "high"],
      [expert(9), "bad"],
    ];
    const first = await epoch(deps, 4, experts);
    expect(first?.version).toBe(1);
    expect(first?.lastLoss).toBeLessThan(first?.firstLoss ?? 0);
    const second = await epoch(deps, 5, experts);
    expect(second?.version).toBe(2);
    expect(second?.items).toBe(120);

    const stored = await store.latestRouter("toy");
    const gate = parseStoredGate(stored?.params);
    if (!gate.ok) throw new Error(gate.error);
    expect(gate.params.expertUids).toEqual([3, 5, 9]);
    const router = createRouter({ params: gate.params, candidates: [3, 5, 9], options: { explorationWeight: 0 } });
    expect(router.route([1, 0, 0], 1).uids).toEqual([3]);
    expect(router.route([0, 1, 0], 1).uids).toEqual([5]);
    expect(router.route([1, 0, 0], 2).uids).not.toContain(9);
    expect(router.route([0, 1, 0], 2).uids).not.toContain(9);
  });

  it("keeps a bounded window of epochs and retrains over the experts serving now", async () => {
    const { deps, store } = setup(training);
    const base: [ScoredExpert, Kind][] = [
      [expert(3), "low"],
      [expert(5), "high"],
    ];
    for (let n = 1; n <= 5; n++) await epoch(deps, n, base);
    let state = parseTrainingState((await store.latestRouter("toy"))?.params);
    expect(state.window.map((w) => w.epoch)).toEqual([3, 4, 5]);

    // uid 5 leaves, uid 7 joins; uid 3 is recycled to another hotkey (someone else: its old answers do not count).
    const next: [ScoredExpert, Kind][] = [
      [expert(3, "other"), "high"],
      [expert(7), "low"],
    ];
    const report = await epoch(deps, 6, next);
    expect(report?.version).toBe(6);
    const gate = parseStoredGate((await store.latestRouter("toy"))?.params);
    expect(gate.ok && gate.params.expertUids).toEqual([3, 7]);
    state = parseTrainingState((await store.latestRouter("toy"))?.params);
    expect(state.window.map((w) => w.epoch)).toEqual([4, 5, 6]);
    const old = state.window[0];
    if (!old) throw new Error("no window");
    const data = assembleTrainingData(
      [{ inputs: new Float32Array(old.items * 3), items: old.items, columns: decodeColumns(old) }],
      [
        { uid: 3, hotkey: "other" },
        { uid: 7, hotkey: "hk7" },
      ],
      3,
    );
    // Neither current expert was asked epoch 4's items: both unknown there, not failing.
    expect(data.known?.every((k) => k === 0)).toBe(true);
  });

  it("does nothing for a task it does not train, and never throws when storing fails", async () => {
    const { deps } = setup({ tasks: {} });
    expect(await epoch(deps, 1, [[expert(1), "low"]])).toBeNull();

    const failing = new MemoryScoreStore();
    failing.putRouter = async () => {
      throw new Error("table down");
    };
    const broken = setup(training, failing);
    expect(await epoch(broken.deps, 1, [[expert(1), "low"]])).toBeNull();
    expect(broken.logs).toContain("router training failed");

    // Failing because the process is stopping is no warning (npm start's Ctrl-C during an epoch).
    const stopping = setup(training, failing);
    const controller = new AbortController();
    controller.abort();
    expect(await epoch({ ...stopping.deps, signal: controller.signal }, 1, [[expert(1), "low"]])).toBeNull();
    expect(stopping.logs).toEqual([]);
  });

  it("starts afresh from unreadable stored training state, and from Brier-loss state stored before version 2", () => {
    expect(parseTrainingState({ training: { v: 3 } })).toEqual({ v: 2, window: [], bootstrap: null });
    expect(parseTrainingState({ training: { v: 1, window: [], bootstrap: null } })).toEqual(EMPTY_TRAINING_STATE);
    expect(parseTrainingState("garbage").window).toEqual([]);
  });
});
