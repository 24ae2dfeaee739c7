import type { ApiDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { idempotentRequestId } from "./flow/ids.ts";

/** How long an account read able to pay lets its next queries skip the pre-check's read (issue 17). */
const PAYING_TTL_MS = 5_000;
/** Accounts remembered per API instance at most (oldest dropped first): a flood of accounts cannot grow it. */
const PAYING_MAX = 10_000;

/**
 * Accounts this API instance last read with enough balance for one answer, until when; per deps (one app). Only a
 * "can pay" is remembered, never a "cannot": a top-up elsewhere takes effect at once. A stale entry only lets one
 * query past the pre-check to the hold, whose conditional write refuses it with the same code and drops the entry
 * (`forgetPaying`), so an account that cannot pay still gets at most one decode per drain, not one per query.
 */
const payingByDeps = new WeakMap<object, Map<string, number>>();

function payingOf(deps: Pick<ApiDeps, "ledger">): Map<string, number> {
  let paying = payingByDeps.get(deps.ledger);
  if (!paying) {
    paying = new Map();
    payingByDeps.set(deps.ledger, paying);
  }
  return paying;
}

/** The hold refused this account for lack of credits: its next query reads the account again. */
export function forgetPaying(deps: Pick<ApiDeps, "ledger">, accountId: string): void {
  payingOf(deps).delete(accountId);
}

/**
 * Refuses a query the account cannot pay for before anything expensive runs (decoding a PNG or WAV, routing):
 * a key with no credits must not be able to make the API work for free. One read of the account, skipped while
 * an earlier read of this instance (at most PAYING_TTL_MS old) found it able to pay; the hold that reserves the
 * money stays where it is (this is a pre-check, not a reservation, so two racing queries may both pass it and the
 * hold still refuses the second, with the same `insufficient_credits`).
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
  const paying = payingOf(deps);
  const now = deps.clock.now();
  if ((paying.get(q.accountId) ?? 0) > now) return;
  paying.delete(q.accountId);
  const account = await deps.ledger.getAccount(q.accountId);
  if ((account?.balance ?? 0) >= task.pricePerAnswer) {
    if (paying.size >= PAYING_MAX) {
      const oldest = paying.keys().next().value;
      if (oldest !== undefined) paying.delete(oldest);
    }
    paying.set(q.accountId, now + PAYING_TTL_MS);
    return;
  }
  if (q.idempotencyKey && (await deps.requests.get(idempotentRequestId(q.accountId, q.idempotencyKey)))) return;
  throw new ApiError(
    "insufficient_credits",
    `this query needs at least ${task.pricePerAnswer} micro-credits of available balance`,
  );
}
