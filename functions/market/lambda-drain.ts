import type { Ledger } from "../../core/ports/ledger.ts";

/**
 * A Lambda handler that returns only once the ledger's background work is over (the rollups its settles started,
 * adapters/tables/ledger-holds.ts). Lambda freezes a container as soon as its handler returns: a rollup left
 * running would resume at the container's next invocation, minutes or hours later, and finish a batch that a
 * sweep or another container finished long since. Its payee credits are idempotent only while their markers are
 * kept (ledger-shares.ts prunes a finished batch's after a couple of minutes): resumed later, it would credit the
 * batch's payees a second time.
 */
export function drainingHandler<A extends unknown[], R>(
  handler: (...args: A) => Promise<R>,
  ledger: Pick<Ledger, "drain">,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } finally {
      // A failed rollup is the sweeper's (every step is idempotent); the response stands.
      await ledger.drain?.().catch(() => undefined);
    }
  };
}
