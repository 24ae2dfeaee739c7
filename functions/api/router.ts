import type { RoutedExpert } from "../../core/ports/requests.ts";
import type { ExpertDirectory, Router } from "./deps.ts";

/** Softmax temperature over weights in [0,1]: low enough that a clearly better expert dominates the mixture. */
const TEMPERATURE = 0.1;

/**
 * The default router until the learned gate (issue 8): the k active experts of the task with the highest weight,
 * gates = softmax(weight / T) over the chosen ones. Ties break by uid so routing is deterministic.
 */
export function topKRouter(directory: ExpertDirectory): Router {
  return {
    async route(task, _input, k): Promise<RoutedExpert[]> {
      const experts = (await directory.experts(task))
        .filter((e) => e.active && e.task === task)
        .sort((a, b) => b.weight - a.weight || a.uid - b.uid)
        .slice(0, Math.max(0, k));
      if (experts.length === 0) return [];
      const top = Math.max(...experts.map((e) => e.weight));
      const exps = experts.map((e) => Math.exp((e.weight - top) / TEMPERATURE));
      const sum = exps.reduce((s, x) => s + x, 0);
      return experts.map((e, i) => ({ uid: e.uid, hotkey: e.hotkey, gate: (exps[i] ?? 0) / sum }));
    },
  };
}
