import type { SpendLimit } from "../../../core/keys/schema.ts";
import type { RequestRecord } from "../../../core/ports/requests.ts";
import { utcDay } from "../../../core/ports/spend.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";

/**
 * Counts a request's hold against its key's spend limits (when the request is marked `spendCounted`). Refused:
 * the request record is discarded and the client answered 402 spend_limit, nothing held. Returns the undo for a
 * hold that then fails (a refund id of its own: the same request id may be retried and settle later).
 */
export async function reserveSpend(
  deps: Pick<ApiDeps, "spend" | "requests">,
  record: RequestRecord,
  limits: SpendLimit | undefined,
): Promise<() => Promise<void>> {
  const spend = deps.spend;
  if (!record.spendCounted || !spend || !limits) return async () => {};
  const day = utcDay(record.createdAt);
  const reserved = await spend.reserve({ keyId: record.keyId, amount: record.holdAmount, day, limits });
  if (!reserved.ok) {
    await deps.requests.discard(record.requestId);
    const which = reserved.limit === "perDay" ? `${limits.perDay} per day` : `${limits.total} in total`;
    throw new ApiError(
      "spend_limit",
      `this query's hold of ${record.holdAmount} micro-credits would pass the key's spend limit of ${which}`,
    );
  }
  return () =>
    spend.giveBack({
      keyId: record.keyId,
      refundId: `${record.requestId}#unheld#${record.createdAt}`,
      amount: record.holdAmount,
      day,
    });
}
