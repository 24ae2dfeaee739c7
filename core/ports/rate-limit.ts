import type { FixedWindow, WindowCount } from "../keys/rate-limit.ts";

/**
 * A request counter shared by every API instance (on Lambda each instance would otherwise have its own bucket, and
 * N instances would admit N times a key's limit). Adapters: DynamoDB (one conditional UpdateItem per request,
 * items expire by TTL) and memory (one process: unit tests, the ephemeral stack).
 */
export interface RateLimitStore {
  /**
   * Counts one request in `bucket`'s current window unless the window already holds `window.capacity`; refused
   * requests are not counted. Atomic: concurrent calls never admit more than the capacity. `units` (default 1)
   * counts that many at once, all or none: an API instance's lease of several requests (functions/api/
   * leased-rate-limits.ts); `count` is then the window's count after all of them.
   */
  hit(bucket: string, window: FixedWindow, units?: number): Promise<WindowCount>;
}
