/**
 * Tells a waiting request handler that its request was settled elsewhere (the settler loop in the same process),
 * so `Prefer: wait` returns as soon as the result is stored instead of at its next poll, and the waiter does not
 * settle (and write) in parallel with the settler. Polling stays as the fallback (a settler in another process, a
 * lost notice): a watch only ends a wait early.
 */
import type { RequestRecord } from "../../../core/ports/requests.ts";

export interface SettleNotifier {
  /** Starts listening for `requestId` before the caller looks at it, so an announcement in between is not lost. */
  watch(requestId: string): SettleWatch;
  /** `record`: the settled record as stored, so a waiter need not read it again (issue 17: one read less). */
  announce(requestId: string, record?: RequestRecord): void;
}

export interface SettleWatch {
  /** Resolves true at the first announcement since the last call (at once if one came meanwhile), false after `ms`. */
  next(ms: number): Promise<boolean>;
  /** The record the last announcement carried, if any. */
  settled(): RequestRecord | undefined;
  close(): void;
}

export function inProcessSettleNotifier(): SettleNotifier {
  const listeners = new Map<string, Set<(record: RequestRecord | undefined) => void>>();
  return {
    watch(requestId) {
      let announced = false;
      let wake: (() => void) | undefined;
      let stop: (() => void) | undefined;
      let settled: RequestRecord | undefined;
      const listener = (record: RequestRecord | undefined) => {
        announced = true;
        settled = record ?? settled;
        wake?.();
      };
      const set = listeners.get(requestId) ?? new Set();
      listeners.set(requestId, set);
      set.add(listener);
      return {
        next(ms) {
          if (announced) {
            announced = false;
            return Promise.resolve(true);
          }
          return new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => finish(false), ms);
            wake = () => finish(true);
            stop = () => finish(false);
            function finish(woken: boolean) {
              clearTimeout(timer);
              wake = undefined;
              stop = undefined;
              announced = false;
              resolve(woken);
            }
          });
        },
        settled: () => settled,
        close() {
          set.delete(listener);
          if (set.size === 0 && listeners.get(requestId) === set) listeners.delete(requestId);
          stop?.();
        },
      };
    },
    announce(requestId, record) {
      for (const listener of listeners.get(requestId) ?? []) listener(record);
    },
  };
}
