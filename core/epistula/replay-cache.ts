import { EPISTULA_MAX_AGE_MS, EPISTULA_MAX_FUTURE_MS } from "./epistula.ts";

/**
 * Remembers request UUIDs for as long as their timestamps could still pass verification, so a captured request
 * cannot be replayed inside the freshness window. Bounded: when full, the oldest entry goes first (a flood of fresh
 * UUIDs must not exhaust memory; the evicted one was the closest to going stale anyway).
 */
export class EpistulaReplayCache {
  private readonly expiries = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxEntries: number;

  constructor(opts: { windowMs?: number; maxEntries?: number } = {}) {
    this.windowMs = opts.windowMs ?? EPISTULA_MAX_AGE_MS + EPISTULA_MAX_FUTURE_MS;
    this.maxEntries = opts.maxEntries ?? 100_000;
  }

  /** True the first time a UUID is seen within the window; false for a replay. Call after verifyEpistula succeeds. */
  accept(uuid: string, now: number): boolean {
    this.sweep(now);
    const expiry = this.expiries.get(uuid);
    if (expiry !== undefined && expiry > now) return false;
    this.expiries.delete(uuid);
    this.expiries.set(uuid, now + this.windowMs);
    while (this.expiries.size > this.maxEntries) {
      const oldest = this.expiries.keys().next();
      if (oldest.done === true) break;
      this.expiries.delete(oldest.value);
    }
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  /** Entries are inserted in expiry order (constant window), so expired ones sit at the front. */
  private sweep(now: number): void {
    for (const [uuid, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(uuid);
    }
  }
}
