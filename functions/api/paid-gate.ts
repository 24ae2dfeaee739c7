import type { ApiDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { idempotentRequestId } from "./flow/ids.ts";

/**
 * Refuses a query the account cannot pay for before anything expensive runs (decoding a PNG or WAV, routing):
 * a key with no credits must not be able to make the API work for free. One read of the account; the hold that
 * reserves the money stays where it is (this is a pre-check, not a reservation, so two racing queries may both
 * pass it and the hold still refuses the second).
 *
 * The bound is one answer's price, the least any query costs: the router may pick fewer experts than `k`, so
 * requiring price x k here could refuse a query the hold would accept. A replay of an existing request (same
 * Idempotency-Key) is let through, since it returns the first request's answer and charges nothing again.
 */
export async function refuseUnpaid(
  deps: ApiDeps,
  q: { readonly accountId: string; readonly task: string; readonly idempotencyKey: string | undefined },
): Promise<void> {
  const task = deps.tasks.get(q.task);
  if (!task) return; // the submit path answers 404 without any work
  const account = await deps.ledger.getAccount(q.accountId);
  if ((account?.balance ?? 0) >= task.pricePerAnswer) return;
  if (q.idempotencyKey && (await deps.requests.get(idempotentRequestId(q.accountId, q.idempotencyKey)))) return;
  throw new ApiError(
    "insufficient_credits",
    `this query needs at least ${task.pricePerAnswer} micro-credits of available balance`,
  );
}
