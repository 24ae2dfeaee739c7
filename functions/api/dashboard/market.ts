import type { ApiDeps } from "../deps.ts";
import type { DashboardSource } from "./source.ts";

/** Share entries read per expert (most recent first): the window the market view covers. */
const ENTRIES_PER_EXPERT = 200;
/** Requests read for latency (one GetItem each). */
const LATENCY_SAMPLE = 100;
const MINUTES = 15;

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? null;
}

/**
 * The market as the ledger and the validator saw it: queries per minute and latency (created -> settled) of recent
 * paid queries, and per expert the answers it was paid for, its fee shares, its routing share (its answers over
 * all answers in the window) and its accuracy on the validator's hidden items of the last epoch.
 */
export async function dashboardMarket(
  deps: Pick<ApiDeps, "directory" | "ledger" | "requests" | "clock">,
  source: DashboardSource,
) {
  const experts = await deps.directory.experts();
  const labels = await source.labels();
  const tasks = [...new Set(experts.map((e) => e.task))];
  const [perExpert, latest] = await Promise.all([
    Promise.all(
      experts.map(async (e) => ({
        expert: e,
        entries: await deps.ledger.shareEntries(e.hotkey, ENTRIES_PER_EXPERT),
        balance: await deps.ledger.payeeBalance(e.hotkey),
      })),
    ),
    Promise.all(tasks.map((t) => source.scores.latestScores(t))),
  ]);
  const accuracyOf = new Map<string, number>();
  for (const s of latest) for (const r of s?.rows ?? []) accuracyOf.set(`${r.uid}:${r.hotkey}`, r.accuracy);
  const totalAnswers = perExpert.reduce((n, x) => n + x.entries.length, 0);

  const requestAt = new Map<string, number>();
  for (const x of perExpert) for (const e of x.entries) requestAt.set(e.requestId, e.at);
  const now = deps.clock.now();
  const minuteOf = (at: number) => Math.floor(at / 60_000);
  const thisMinute = minuteOf(now);
  const perMinute = Array.from({ length: MINUTES }, (_, i) => ({
    minute: new Date((thisMinute - MINUTES + 1 + i) * 60_000).toISOString(),
    queries: 0,
  }));
  for (const at of requestAt.values()) {
    const slot = perMinute[minuteOf(at) - (thisMinute - MINUTES + 1)];
    if (slot) slot.queries++;
  }
  const recent = [...requestAt.entries()].sort((a, b) => b[1] - a[1]).slice(0, LATENCY_SAMPLE);
  const records = await Promise.all(recent.map(([id]) => deps.requests.get(id)));
  const latencyOf = new Map<string, number>();
  for (const r of records)
    if (r?.result && r.result.settledAt >= r.createdAt) latencyOf.set(r.requestId, r.result.settledAt - r.createdAt);
  const sorted = (values: Iterable<number>) => [...values].sort((a, b) => a - b);
  const latencies = sorted(latencyOf.values());
  return {
    windowMinutes: MINUTES,
    queriesPerMinute: perMinute,
    latencyMs: {
      samples: latencies.length,
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
    },
    experts: perExpert.map(({ expert, entries, balance }) => ({
      uid: expert.uid,
      hotkey: expert.hotkey,
      name: labels.get(expert.hotkey)?.name ?? "",
      task: expert.task,
      answers: entries.length,
      feeShares: entries.reduce((s, e) => s + e.amount, 0),
      feeBalance: balance,
      routingShare: totalAnswers > 0 ? entries.length / totalAnswers : 0,
      accuracy: accuracyOf.get(`${expert.uid}:${expert.hotkey}`) ?? null,
      /** Median latency of the sampled queries this expert answered. */
      latencyP50: percentile(sorted(entries.flatMap((e) => latencyOf.get(e.requestId) ?? [])), 50),
    })),
  };
}

export type DashboardMarket = Awaited<ReturnType<typeof dashboardMarket>>;
