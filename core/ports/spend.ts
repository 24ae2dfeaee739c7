import type { SpendLimit } from "../keys/schema.ts";

export type ReserveResult = { readonly ok: true } | { readonly ok: false; readonly limit: "perDay" | "total" };

/**
 * Per-key spend counters (micro-credits held or captured for the key's queries), per UTC day and in total. A
 * reservation is a conditional add on each counter, so parallel queries can never push a counter past its limit
 * together: the one that would cross it is refused (and what it had added to the other counter is taken back).
 */
export interface SpendStore {
  /** Adds `amount` to the key's day and total counters when neither would pass its limit; else changes nothing. */
  reserve(input: {
    readonly keyId: string;
    readonly amount: number;
    /** UTC day, YYYY-MM-DD. */
    readonly day: string;
    readonly limits: SpendLimit;
  }): Promise<ReserveResult>;
  /** Takes `amount` back off both counters, once per `refundId` (a replay changes nothing). */
  giveBack(input: {
    readonly keyId: string;
    readonly refundId: string;
    readonly amount: number;
    readonly day: string;
  }): Promise<void>;
  spent(keyId: string, day: string): Promise<{ readonly today: number; readonly total: number }>;
}

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
