import type { RoutedExpert } from "../../core/ports/requests.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import { createRouter, type GateParams, parseStoredGate, priorFromScores } from "../../core/routing/index.ts";
import type { EpochScores } from "../../core/scores/schema.ts";
import type { TaskRegistry } from "../../core/tasks/registry.ts";
import type { DirectoryExpert, ExpertDirectory, Router } from "../api/deps.ts";

export interface MarketRouterOptions {
  readonly registry: TaskRegistry;
  readonly directory: ExpertDirectory;
  readonly scores: ScoreStore;
  /** How often the learned gate and the scores are re-read from the score store (the validator refreshes both). */
  readonly refreshMs?: number;
  readonly now?: () => number;
  /** The exploration lane (MARKET_EXPLORE_SHARE, MARKET_EXPLORE_CAP); off without it. */
  readonly explore?: { readonly share: number; readonly cap: number; readonly random?: () => number };
}

interface TaskState {
  readonly at: number;
  readonly params: GateParams | null;
  readonly scores: EpochScores | null;
}

/**
 * The API's router: the learned gate of each task (core/routing) over the experts a client may be charged for,
 * with the validator's latest Shapley values (then on-chain weights) as the prior.
 *
 * Who may answer a paid query (issue 16): an expert the validator has scored must have a positive score (EMA) and
 * not be a copy of another; one it has not scored yet must be known to the gate, which the build gate only is for
 * experts with a positive value on the router rows. So the copy, the adversary and the noise source get no paid
 * query from the first one on. Exploration of a newcomer is paid by the validator, not by clients: it sends the
 * router items to every expert the gate does not know and scores it every epoch, and the next gate includes it.
 * Until then `explore` adds a newcomer to a bounded share of paid queries in the shadow (issue 15): it answers
 * within seconds of its commitment, its signed answers are recorded, and the client neither gets nor pays them.
 *
 * The answer is the plain average of the chosen experts (equal gates): with specialists that abstain outside their
 * digits, averaging lets the one that knows decide, where gate weights only made the gate's own mistakes final
 * (measured in bench/quality.ts: top-2 0.955 plain vs 0.949 gate-weighted on 2,000 hidden digits).
 */
export function marketRouter(options: MarketRouterOptions): Router {
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 5000;
  // Each read once per refresh, however many queries arrive while it is out: at 64 clients every query in flight
  // when the cache ran out read the gate (tens of read units) and the scores again (issue 17, bench/market.ts).
  const states = refreshing<TaskState>();
  const stateOf = (task: string): Promise<TaskState> =>
    states.get(task, refreshMs, now, async () => {
      const [stored, scores] = await Promise.all([
        options.scores.latestRouter(task),
        options.scores.latestScores(task),
      ]);
      const parsed = stored ? parseStoredGate(stored.params) : null;
      return { at: now(), params: parsed?.ok ? parsed.params : null, scores };
    });

  const explore = options.explore;
  const random = explore?.random ?? Math.random;
  const shadowCounts = refreshing<{ at: number; count: number }>();
  const shadowCount = async (hotkey: string, cap: number): Promise<number> =>
    (
      await shadowCounts.get(hotkey, refreshMs, now, async () => ({
        at: now(),
        count: await options.scores.shadowAnswerCount(hotkey, cap),
      }))
    ).count;

  return {
    async explore(taskId, routed): Promise<RoutedExpert[]> {
      if (explore === undefined || explore.share <= 0 || explore.cap <= 0 || random() >= explore.share) return [];
      const experts = await options.directory.experts(taskId);
      const { params, scores } = await stateOf(taskId);
      const open: DirectoryExpert[] = [];
      for (const e of newcomers(experts, params, scores, routed)) {
        if ((await shadowCount(e.hotkey, explore.cap)) < explore.cap) open.push(e);
      }
      const pick = open[Math.floor(random() * open.length)];
      return pick === undefined ? [] : [{ uid: pick.uid, hotkey: pick.hotkey, gate: 0 }];
    },
    async route(taskId, normalizedInput, k): Promise<RoutedExpert[]> {
      const task = options.registry.get(taskId);
      if (!task) return [];
      const experts = await options.directory.experts(taskId);
      if (experts.length === 0) return [];
      const { params, scores } = await stateOf(taskId);
      const features = task.routerFeatures(normalizedInput);
      // A gate trained for another input size (e.g. before a task change) is ignored rather than misapplied.
      const usable = params && params.inputSize === features.length ? params : null;
      const candidates = payable(experts, usable, scores);
      const strength = candidates.map((e) => (e.shapley > 0 ? e.shapley : e.weight));
      const router = createRouter({
        params: usable,
        candidates: candidates.map((e) => e.uid),
        prior: priorFromScores(strength),
        options: { explorationWeight: 0, epsilon: 0 },
      });
      const routed = router.route(features, Math.min(k, candidates.length));
      const byUid = new Map(candidates.map((e) => [e.uid, e]));
      const chosen = routed.uids.flatMap((uid) => {
        const expert = byUid.get(uid);
        return expert ? [expert] : [];
      });
      return chosen.map((expert) => ({ uid: expert.uid, hotkey: expert.hotkey, gate: 1 / chosen.length }));
    },
  };
}

/**
 * Newcomers for the exploration lane (issue 15): served experts the validator has not scored on any answer yet (so not copies
 * either: a copy is known only once scored, and the directory serves no copy of an earlier commitment) that the gate
 * does not know, so `payable` leaves them out of paid routing, and that are not already answering this query.
 */
export function newcomers(
  experts: readonly DirectoryExpert[],
  gate: GateParams | null,
  scores: EpochScores | null,
  routed: readonly RoutedExpert[],
): DirectoryExpert[] {
  if (gate === null) return [];
  // A row without a single answer (its validation jobs all timed out behind a backlog) judged nothing: the expert
  // stays new. Seen with `npm start` on a busy machine, where a newcomer's first epochs came back empty and ended its
  // exploration before any client query reached it.
  const scored = new Set((scores?.rows ?? []).filter((r) => r.answered > 0).map((r) => `${r.uid}:${r.hotkey}`));
  const inGate = new Set(gate.expertUids);
  const answering = new Set(routed.map((r) => r.uid));
  return experts.filter((e) => !scored.has(`${e.uid}:${e.hotkey}`) && !inGate.has(e.uid) && !answering.has(e.uid));
}

/**
 * The experts a client may be charged for (see marketRouter). Should none qualify (e.g. a market whose every expert
 * scored zero), every expert that is not a copy does, so that queries are still answered.
 */
export function payable(
  experts: readonly DirectoryExpert[],
  gate: GateParams | null,
  scores: EpochScores | null,
): DirectoryExpert[] {
  const scored = new Map((scores?.rows ?? []).map((r) => [`${r.uid}:${r.hotkey}`, r]));
  const inGate = new Set(gate?.expertUids ?? []);
  const notCopies = experts.filter((e) => (scored.get(`${e.uid}:${e.hotkey}`)?.copyOf ?? null) === null);
  const qualified = notCopies.filter((e) => {
    const row = scored.get(`${e.uid}:${e.hotkey}`);
    if (row !== undefined) return row.ema > 0 && (gate === null || inGate.has(e.uid));
    // Not scored yet: only the gate can vouch for it; without any gate (a task the validator trains none for,
    // before its first epoch) every unscored expert may answer, as before.
    return gate === null || inGate.has(e.uid);
  });
  return qualified.length > 0 ? qualified : notCopies;
}

/**
 * Values kept `ttlMs` per key and read again when older, one read per key at a time: callers that find a key stale
 * while its read is out wait for that read instead of making their own.
 */
function refreshing<T extends { readonly at: number }>() {
  const values = new Map<string, T>();
  const loading = new Map<string, Promise<T>>();
  return {
    get(key: string, ttlMs: number, now: () => number, load: () => Promise<T>): Promise<T> {
      const cached = values.get(key);
      if (cached && now() - cached.at < ttlMs) return Promise.resolve(cached);
      const out = loading.get(key);
      if (out) return out;
      const read = load()
        .then((value) => {
          values.set(key, value);
          return value;
        })
        .finally(() => loading.delete(key));
      loading.set(key, read);
      return read;
    },
  };
}
