import { readDigitGate } from "../../adapters/runtime/digit-gate-file.ts";
import type { ValidationSources } from "../../adapters/runtime/validation-sources.ts";
import type { Metagraph } from "../../core/ports/chain.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import { type GateParams, storedRouter } from "../../core/routing/index.ts";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import {
  digitBootstrapItems,
  encodeColumn,
  featureMatrix,
  fingerprint,
  type RouterTrainingState,
} from "./router-data.ts";
import type { ValidationItem } from "./types.ts";

/** A gate trained before the market opened (at build time), over experts known by hotkey, and its training data. */
export interface BuildGate {
  readonly task: string;
  /** expertUids are indexes into `experts`. */
  readonly gate: GateParams;
  readonly experts: readonly { readonly hotkey: string; readonly losses: Float32Array }[];
  /** The router-training items the losses are of: the validator's own bootstrap items, in its order. */
  readonly items: readonly ValidationItem[];
  readonly features: (input: unknown) => readonly number[];
}

export type SeedOutcome = "seeded" | "kept" | "unusable";

/**
 * Stores the build gate as the task's router (version 1) when the store has none yet, so that the API routes with a
 * trained gate from its first query. Its losses become the validator's bootstrap set, so the validator neither asks
 * the same experts the router items again nor trains its first gate on fewer of them; every epoch it retrains on
 * those items plus its hidden items. A stored router (a restart) is kept: it is at least as trained.
 */
export async function seedRouterFromBuild(
  scores: ScoreStore,
  build: BuildGate,
  uidOf: (hotkey: string) => number | undefined,
  at: number,
): Promise<SeedOutcome> {
  if ((await scores.latestRouter(build.task)) !== null) return "kept";
  const uids = build.gate.expertUids.map((i) => {
    const hotkey = build.experts[i]?.hotkey;
    return hotkey === undefined ? undefined : uidOf(hotkey);
  });
  const matrix = featureMatrix(build.items, build.features);
  if (uids.some((u) => u === undefined) || matrix === null || matrix.inputSize !== build.gate.inputSize) {
    return "unusable";
  }
  const columns = build.experts.flatMap((e) => {
    const uid = uidOf(e.hotkey);
    return uid === undefined || e.losses.length !== build.items.length
      ? []
      : [encodeColumn({ uid, hotkey: e.hotkey }, e.losses)];
  });
  const training: RouterTrainingState = {
    v: 2,
    window: [],
    bootstrap: { epoch: 0, items: build.items.length, fingerprint: fingerprint(matrix.inputs), columns },
  };
  const gate: GateParams = { ...build.gate, expertUids: uids.map((u) => u ?? -1) };
  await scores.putRouter({ task: build.task, version: 1, epoch: 0, at, params: storedRouter(gate, training) });
  return "seeded";
}

export interface SeedDigitRouterArgs {
  readonly scores: ScoreStore;
  readonly expertsDir: string;
  readonly registry: TaskRegistry;
  readonly sources: Pick<ValidationSources, "digitData" | "digitSplit">;
  readonly metagraph: () => Promise<Pick<Metagraph, "hotkeys">>;
  readonly now: number;
}

/** The digit build gate (`npm run experts`) as the market's first digit router; see seedRouterFromBuild. */
export async function seedDigitRouter(args: SeedDigitRouterArgs): Promise<SeedOutcome | "absent"> {
  const digits = args.registry.get("digits");
  const file = await readDigitGate(args.expertsDir);
  if (digits === undefined || file === null) return "absent";
  if (file.rows > args.sources.digitSplit.routerTrain.length) return "unusable";
  const { hotkeys } = await args.metagraph();
  const uids = new Map(hotkeys.map((hotkey, uid) => [hotkey, uid]));
  return seedRouterFromBuild(
    args.scores,
    {
      task: "digits",
      gate: file.gate,
      experts: file.experts,
      items: digitBootstrapItems(args.sources.digitData, args.sources.digitSplit, file.rows),
      features: (input) => digits.routerFeatures(input as never),
    },
    (hotkey) => uids.get(hotkey),
    args.now,
  );
}
