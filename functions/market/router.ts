import type { RoutedExpert } from "../../core/ports/requests.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import { createRouter, type GateParams, parseStoredGate, priorFromScores } from "../../core/routing/index.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import type { ExpertDirectory, Router } from "../api/deps.ts";

export interface MarketRouterOptions {
  readonly registry: TaskRegistry;
  readonly directory: ExpertDirectory;
  readonly scores: ScoreStore;
  /** How often the learned gate is re-read from the score store (the validator refreshes it every epoch). */
  readonly refreshMs?: number;
  readonly now?: () => number;
  readonly seed?: number;
}

/**
 * The API's router: the learned gate of each task (core/routing) over the experts currently serving it, with the
 * validator's latest Shapley values (then on-chain weights) as the prior and an exploration bonus from traffic,
 * so a newly registered expert is tried without a restart. Experts join or leave as the directory changes.
 */
export function marketRouter(options: MarketRouterOptions): Router {
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 5000;
  const gates = new Map<string, { at: number; params: GateParams | null }>();
  const traffic = new Map<number, number>();
  const rng = mulberry32(options.seed ?? 0x5eed);

  const gateOf = async (task: string): Promise<GateParams | null> => {
    const cached = gates.get(task);
    if (cached && now() - cached.at < refreshMs) return cached.params;
    const stored = await options.scores.latestRouter(task);
    const parsed = stored ? parseStoredGate(stored.params) : null;
    const params = parsed?.ok ? parsed.params : null;
    gates.set(task, { at: now(), params });
    return params;
  };

  return {
    async route(taskId, normalizedInput, k): Promise<RoutedExpert[]> {
      const task = options.registry.get(taskId);
      if (!task) return [];
      const experts = await options.directory.experts(taskId);
      if (experts.length === 0) return [];
      const params = await gateOf(taskId);
      const features = task.routerFeatures(normalizedInput);
      // A gate trained for another input size (e.g. before a task change) is ignored rather than misapplied.
      const usable = params && params.inputSize === features.length ? params : null;
      const strength = experts.map((e) => (e.shapley > 0 ? e.shapley : e.weight));
      const router = createRouter({
        params: usable,
        candidates: experts.map((e) => e.uid),
        prior: priorFromScores(strength),
      });
      const routed = router.route(features, Math.min(k, experts.length), {
        traffic: experts.map((e) => traffic.get(e.uid) ?? 0),
        rng,
      });
      const byUid = new Map(experts.map((e) => [e.uid, e]));
      return routed.uids.flatMap((uid, i) => {
        const expert = byUid.get(uid);
        if (!expert) return [];
        traffic.set(uid, (traffic.get(uid) ?? 0) + 1);
        return [{ uid, hotkey: expert.hotkey, gate: routed.gates[i] ?? 0 }];
      });
    },
  };
}
