import type { ShareEntry } from "./schema.ts";

/** One UTC day of a payee's earnings: what the public may see (no request ids, no accounts, no times). */
export interface DailyEarnings {
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
  /** Micro-credits credited that day. */
  readonly amount: number;
  /** Answers paid that day. */
  readonly answers: number;
}

const DAY_MS = 86_400_000;

/**
 * Share entries -> totals per UTC day, newest day first. Per-request entries (request ids, exact times) would let
 * anyone trace another account's queries to the expert that answered them; a day's totals do not.
 */
export function dailyEarnings(entries: readonly ShareEntry[]): DailyEarnings[] {
  const byDay = new Map<number, { amount: number; answers: number }>();
  for (const e of entries) {
    const day = Math.floor(e.at / DAY_MS);
    const total = byDay.get(day) ?? { amount: 0, answers: 0 };
    total.amount += e.amount;
    total.answers += 1;
    byDay.set(day, total);
  }
  return [...byDay.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([day, t]) => ({ day: new Date(day * DAY_MS).toISOString().slice(0, 10), ...t }));
}
