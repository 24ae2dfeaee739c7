import type { Logger } from "../../adapters/log/logger.ts";
import type { Chain } from "../../core/ports/chain.ts";

export interface FollowOptions {
  readonly chain: Pick<Chain, "currentBlock">;
  /** Rebuilds and publishes the directory (functions/market/chain-directory.ts refresh). */
  readonly refresh: () => Promise<unknown>;
  /** When to stop (ms since epoch): nothing is started after it, and a call still in flight then is abandoned. */
  readonly until: number;
  /** How often the head is asked for (Bittensor makes a block every 12 s). */
  readonly pollMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: Logger;
}

export interface FollowReport {
  /** Distinct heads seen. */
  readonly blocks: number;
  /** Refreshes that completed (one per new head, plus retries of failed ones). */
  readonly refreshes: number;
  readonly failures: number;
  readonly lastBlock: number | null;
}

/**
 * Follows the chain until `until`: on each new head the directory is rebuilt, so a commitment is published within
 * a poll plus one refresh of the block that holds it. A failed poll or refresh is logged and retried on the next
 * poll (the head is marked seen only once its refresh succeeded): one bad read never ends the follow nor skips a
 * block's commitments. Each step is bounded by `until`, so a call hanging on a dropped connection cannot hold the
 * invocation past it; the abandoned call's rejection is handled (the caller closes the connection after).
 */
export async function followChain(options: FollowOptions): Promise<FollowReport> {
  const { log } = options;
  let lastBlock: number | null = null;
  let blocks = 0;
  let refreshes = 0;
  let failures = 0;
  const step = async (): Promise<void> => {
    const head = await options.chain.currentBlock();
    if (head === lastBlock) return;
    await options.refresh();
    if (lastBlock === null || head > lastBlock) blocks++;
    lastBlock = head;
    refreshes++;
  };
  while (options.now() < options.until) {
    const started = options.now();
    const running = step().then(
      () => "done" as const,
      (error: unknown) => {
        failures++;
        log.warn("directory refresh failed; retried on the next poll", { error });
        return "failed" as const;
      },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), Math.max(0, options.until - started));
    });
    const outcome = await Promise.race([running, deadline]);
    clearTimeout(timer);
    if (outcome === "deadline") {
      log.warn("a chain read was still running at the end of the follow; abandoned");
      break;
    }
    const wait = Math.min(options.pollMs - (options.now() - started), options.until - options.now());
    if (wait > 0) await options.sleep(wait);
  }
  return { blocks, refreshes, failures, lastBlock };
}
