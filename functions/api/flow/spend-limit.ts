import type { SpendLimit } from "../../../core/keys/schema.ts";
import type { RequestRecord } from "../../../core/ports/requests.ts";
import { utcDay } from "../../../core/ports/spend.ts";
import type { ApiDeps } from "../deps.ts";
import { ApiError } from "../errors.ts";
import { randomId } from "./ids.ts";

/**
 * Counts a request's hold against its key's spend limits (when the request is marked `spendCounted`), before its
 * record is written. Refused: the client is answered 402 spend_limit, nothing written or held. Returns the undo for
 * a hold that then fails (a refund id of its own: the same request id may be retried and settle later).
 */
export async function reserveSpend(
  deps: Pick<ApiDeps, "spend">,
  record: RequestRecord,
  limits: SpendLimit | undefined,
): Promise<() => Promise<void>> {
  const spend = deps.spend;
  if (!record.spendCounted || !spend || !limits) return async () => {};
  const day = utcDay(record.createdAt);
  const reserved = await spend.reserve({ keyId: record.keyId, amount: record.holdAmount, day, limits });
  if (!reserved.ok) {
    const which = reserved.limit === "perDay" ? `${limits.perDay} per day` : `${limits.total} in total`;
    throw new ApiError(
      "spend_limit",
      `this query's hold of ${record.holdAmount} micro-credits would pass the key's spend limit of ${which}`,
    );
  }
  return () =>
    spend.giveBack({
      keyId: record.keyId,
      // Its own refund id per reservation: two submits of one Idempotency-Key may both reserve (one then finds the
      // other's record), and the same request id may be retried and settle later under the request id.
      refundId: `${record.requestId}#unheld#${randomId("r")}`,
      amount: record.holdAmount,
      day,
    });
}
