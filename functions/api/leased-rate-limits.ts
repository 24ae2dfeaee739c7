import type { FixedWindow, WindowCount } from "../../core/keys/rate-limit.ts";
import type { RateLimitStore } from "../../core/ports/rate-limit.ts";

/** A lease is at most this many requests, and at most this share of a window's capacity. */
const MAX_LEASE = 10;
const LEASE_SHARE = 20;

/**
 * The shared limiter as one API instance uses it (issue 17: no write per request): a request that finds no local
 * allowance counts a lease of several in the shared window at once (one conditional write), and the next requests of
 * that key in that window take from it without a call. Never more than the capacity is admitted across instances
 * (every lease is counted before use); the price is strictness: the unused part of a lease (at most a twentieth of
 * the capacity, at most 9 requests, per instance and window) is refused to other instances. Small windows
 * (capacity under 40) lease one at a time, exactly as without this. Near the limit a lease that does not fit falls
 * back to a single request.
 */
export function leasedRateLimits(inner: RateLimitStore, maxBuckets = 10_000): RateLimitStore {
  const leases = new Map<string, { window: string; left: number; count: number }>();
  // One lease in flight per bucket: concurrent requests wait for it rather than each leasing (and wasting) their own.
  const leasing = new Map<string, Promise<WindowCount>>();
  const fromLease = (bucket: string, id: string): WindowCount | null => {
    const lease = leases.get(bucket);
    if (lease?.window !== id || lease.left <= 0) return null;
    lease.left--;
    return { allowed: true, count: lease.count - lease.left };
  };
  const lease = async (bucket: string, window: FixedWindow, id: string): Promise<WindowCount> => {
    const size = Math.max(1, Math.min(MAX_LEASE, Math.floor(window.capacity / LEASE_SHARE)));
    let taken = size;
    let counted = await inner.hit(bucket, window, size);
    if (!counted.allowed && size > 1) {
      taken = 1;
      counted = await inner.hit(bucket, window, 1);
    }
    if (!counted.allowed) return counted;
    leases.delete(bucket); // re-inserted last: the map's order is least recently used first
    leases.set(bucket, { window: id, left: taken - 1, count: counted.count });
    if (leases.size > maxBuckets) {
      const oldest = leases.keys().next();
      if (!oldest.done) leases.delete(oldest.value);
    }
    return { allowed: true, count: counted.count - (taken - 1) };
  };
  return {
    async hit(bucket: string, window: FixedWindow, units = 1): Promise<WindowCount> {
      if (units !== 1) return inner.hit(bucket, window, units);
      const id = `${window.lengthMs}#${window.start}`;
      for (;;) {
        const local = fromLease(bucket, id);
        if (local) return local;
        const inFlight = leasing.get(bucket);
        if (inFlight === undefined) break;
        // A refused lease refuses its waiters too: the window is full.
        if (!(await inFlight.catch(() => null))?.allowed && leasing.get(bucket) === undefined) {
          return inner.hit(bucket, window, 1);
        }
      }
      const pending = lease(bucket, window, id).finally(() => leasing.delete(bucket));
      leasing.set(bucket, pending);
      return pending;
    },
  };
}
