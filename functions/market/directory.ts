import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { Chain, Metagraph } from "../../core/ports/chain.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import type { DirectoryExpert, DirectoryValidator, ExpertDirectory, MetagraphView } from "../api/deps.ts";
import type { ScoredExpert } from "../validator/types.ts";
import { validatorsOf } from "./validators.ts";

export interface DirectoryOptions {
  readonly chain: Chain;
  readonly netuid: number;
  readonly scores: ScoreStore;
  readonly manifests: () => Promise<readonly ExpertManifest[]>;
  /** The validator whose weight row gives the experts' current weights. */
  readonly validatorHotkey: string;
  /** Every validator the market runs: listed even before they have set weights. */
  readonly validatorHotkeys?: readonly string[];
  readonly cacheMs?: number;
  /** Block of the hotkey's served on-chain commitment (copy precedence), when the model came from one. */
  readonly committedAt?: (hotkey: string) => number | undefined;
  readonly now?: () => number;
}

export interface MarketDirectory extends ExpertDirectory {
  /** Served experts registered on chain under their hotkey, with the model hash the validator groups copies by. */
  scoredExperts(): Promise<ScoredExpert[]>;
}

interface Snapshot {
  readonly at: number;
  readonly metagraph: Metagraph;
  readonly experts: DirectoryExpert[];
  readonly scored: ScoredExpert[];
  readonly validators: DirectoryValidator[];
}

/**
 * Who serves what, joined from three sources: the manifests (task, model hash), the metagraph (uid, incentive,
 * the validator's weight row) and the validator's latest scores (Shapley). Cached briefly because every paid
 * query routes through it.
 */
export function expertDirectory(options: DirectoryOptions): MarketDirectory {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 1000;
  let cached: Snapshot | null = null;
  let loading: Promise<Snapshot> | null = null;

  const load = async (): Promise<Snapshot> => {
    const [metagraph, manifests] = await Promise.all([options.chain.metagraph(options.netuid), options.manifests()]);
    const uidOf = new Map(metagraph.hotkeys.map((hotkey, uid) => [hotkey, uid]));
    const validatorUid = uidOf.get(options.validatorHotkey);
    const row = validatorUid === undefined ? [] : (metagraph.weights[validatorUid] ?? []);
    const rowSum = row.reduce((s, [, w]) => s + w, 0);
    const weightOf = new Map(row.map(([uid, w]) => [uid, rowSum > 0 ? w / rowSum : 0]));
    const tasks = [...new Set(manifests.map((m) => m.task))];
    const latest = await Promise.all(tasks.map((t) => options.scores.latestScores(t)));
    const shapleyOf = new Map<string, number>();
    for (const s of latest) for (const r of s?.rows ?? []) shapleyOf.set(`${s?.task}:${r.uid}:${r.hotkey}`, r.shapley);

    const experts: DirectoryExpert[] = [];
    const scored: ScoredExpert[] = [];
    for (const m of manifests) {
      const uid = uidOf.get(m.hotkey);
      if (uid === undefined) continue;
      experts.push({
        uid,
        hotkey: m.hotkey,
        task: m.task,
        weight: weightOf.get(uid) ?? 0,
        incentive: (metagraph.incentive[uid] ?? 0) / 65535,
        shapley: shapleyOf.get(`${m.task}:${uid}:${m.hotkey}`) ?? 0,
        active: true,
      });
      const committedAt = options.committedAt?.(m.hotkey);
      scored.push({
        uid,
        hotkey: m.hotkey,
        task: m.task,
        modelSha256: m.model.sha256,
        ...(committedAt === undefined ? {} : { committedAt }),
      });
    }
    experts.sort((a, b) => a.uid - b.uid);
    const validators = validatorsOf(metagraph, new Set(options.validatorHotkeys ?? [options.validatorHotkey]));
    return { at: now(), metagraph, experts, scored, validators };
  };

  const snapshot = async (): Promise<Snapshot> => {
    if (cached && now() - cached.at < cacheMs) return cached;
    loading ??= load().finally(() => {
      loading = null;
    });
    cached = await loading;
    return cached;
  };

  return {
    async experts(task) {
      const s = await snapshot();
      return task === undefined ? s.experts : s.experts.filter((e) => e.task === task);
    },
    async metagraph(): Promise<MetagraphView> {
      const s = await snapshot();
      return { netuid: options.netuid, block: s.metagraph.block, experts: s.experts, validators: s.validators };
    },
    async validators() {
      return (await snapshot()).validators;
    },
    async scoredExperts() {
      return (await snapshot()).scored;
    },
  };
}
