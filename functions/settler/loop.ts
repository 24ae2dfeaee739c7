import type { JobQueue, ReceivedMessage } from "../../core/ports/queue.ts";
import type { RequestRecord } from "../../core/ports/requests.ts";
import type { ShadowDeps } from "../api/flow/shadow.ts";
import { NoticeSettler } from "./notice-settler.ts";

export interface SettlerLoop {
  stop(): Promise<void>;
}

export interface SettlerLoopOptions {
  /** Long-poll wait per receive, seconds (short in tests so a stop is quick). */
  readonly waitSeconds?: number;
  /** A notice to retry comes back after this many seconds (times its receive count, capped at 60). */
  readonly retryDelaySeconds?: number;
  /**
   * After a receive that brought notices, wait this long before the next (default 10 ms; 0: never), so that under
   * load a receive and its delete carry several queries' notices (issue 17). A lone query's notice is not delayed
   * unless it comes within this time of the previous one.
   */
  readonly lingerMs?: number;
  /** Notices being settled at once, at most (default 64). */
  readonly maxInFlight?: number;
  /** Called with each request this loop finds settled (the API's waiters in this process listen). */
  readonly onSettled?: (requestId: string, record: RequestRecord) => void;
}

/**
 * The settler as a loop on the settle queue, for `npm start` and the ephemeral stack (the cloud runs lambda.ts on
 * the same queue). Notices are settled as they arrive, those of one request one after another (notice-settler.ts);
 * a notice is deleted once handled, and one to retry (or whose handling threw) is left to come back after a
 * backed-off visibility.
 */
export function startSettlerLoop(deps: ShadowDeps, queue: JobQueue, options: SettlerLoopOptions = {}): SettlerLoop {
  const abort = new AbortController();
  const waitSeconds = options.waitSeconds ?? 2;
  const retryDelay = options.retryDelaySeconds ?? 2;
  // Notices of one request are settled one after another, not side by side (notice-settler.ts).
  const settler = new NoticeSettler(deps, options.onSettled);
  /** Settles one notice; true when it is done with (to delete), false when it was left to come back later. */
  const handle = async (message: ReceivedMessage): Promise<boolean> => {
    try {
      const outcome = await settler.handle(message.body);
      if (outcome !== "retry") return true;
    } catch (error) {
      deps.logger.error("settle failed; the notice will be retried", { messageId: message.messageId, error });
    }
    await queue
      .extendVisibility(message.receipt, Math.min(60, retryDelay * message.receiveCount))
      .catch(() => undefined);
    return false;
  };
  // A receive's notices are deleted together once all of them are handled: one DeleteMessageBatch per receive
  // rather than one per notice as their settles end at different times (issue 17). A done notice waiting for a slow
  // one stays invisible; should its visibility run out first, it comes back and settles as a no-op.
  const deleteDone = async (messages: readonly ReceivedMessage[], done: readonly boolean[]) => {
    await Promise.all(
      messages.map((message, i) =>
        done[i]
          ? queue.delete(message.receipt).catch((error: unknown) => {
              deps.logger.warn("settle notice delete failed; it will come back and settle as a no-op", { error });
            })
          : undefined,
      ),
    );
  };
  // Notices are settled as they come, up to maxInFlight at once: waiting for a whole receive's settles before the
  // next receive made every notice behind a slow settle wait for it (under load, most of a query's latency).
  const maxInFlight = options.maxInFlight ?? 64;
  const lingerMs = options.lingerMs ?? 10;
  const handling = new Set<Promise<boolean>>();
  const deletes = new Set<Promise<void>>();
  let room: (() => void) | undefined;
  const loop = (async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        if (handling.size >= maxInFlight) {
          await new Promise<void>((resolve) => {
            room = resolve;
          });
          continue;
        }
        const max = Math.min(10, maxInFlight - handling.size);
        const messages = await queue.receive({ max, waitSeconds, signal: abort.signal });
        failures = 0;
        const settled = messages.map((message) => {
          const handled: Promise<boolean> = handle(message).finally(() => {
            handling.delete(handled);
            room?.();
            room = undefined;
          });
          handling.add(handled);
          return handled;
        });
        if (settled.length > 0) {
          const deleting: Promise<void> = Promise.all(settled)
            .then((done) => deleteDone(messages, done))
            .finally(() => deletes.delete(deleting));
          deletes.add(deleting);
        }
        // A full receive means more are waiting: take them now; a partial one lingers to let the next fill up.
        if (messages.length > 0 && messages.length < max && lingerMs > 0) await backOff(lingerMs, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) break;
        failures++;
        deps.logger.warn("settle queue receive failed; backing off", { error, failures });
        await backOff(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)), abort.signal);
      }
    }
    await Promise.all(handling);
    await Promise.all(deletes);
  })();
  return {
    async stop() {
      abort.abort();
      room?.();
      await loop;
    },
  };
}

/** Sleeps `ms`, ending early when `signal` aborts: a stop never waits out a back-off (up to 5 s). */
function backOff(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
