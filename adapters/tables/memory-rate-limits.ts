import type { FixedWindow, WindowCount } from "../../core/keys/rate-limit.ts";
import type { RateLimitStore } from "../../core/ports/rate-limit.ts";

/** In-process RateLimitStore (same semantics as the DynamoDB one); bounded, the oldest bucket forgotten first. */
export class MemoryRateLimits implements RateLimitStore {
  private readonly windows = new Map<string, { id: string; count: number }>();
  constructor(private readonly maxBuckets = 100_000) {}

  async hit(bucket: string, window: FixedWindow, units = 1): Promise<WindowCount> {
    const id = `${window.lengthMs}#${window.start}`;
    const current = this.windows.get(bucket);
    const count = current?.id === id ? current.count : 0;
    if (count + units > window.capacity) return { allowed: false, count };
    this.windows.delete(bucket); // re-insert: the map's order is least recently used first
    this.windows.set(bucket, { id, count: count + units });
    if (this.windows.size > this.maxBuckets) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
    return { allowed: true, count: count + units };
  }
}
