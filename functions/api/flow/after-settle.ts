import type { RequestRecord, WebhookEvent } from "../../../core/ports/requests.ts";
import { type SpendStore, utcDay } from "../../../core/ports/spend.ts";
import type { WebhookOutbox } from "../../../core/ports/webhooks.ts";
import type { ApiLogger, Clock } from "../deps.ts";
import { iso, jobView } from "../views.ts";

export interface AfterSettleDeps {
  readonly spend?: SpendStore;
  readonly webhooks?: WebhookOutbox;
  readonly clock: Clock;
  readonly logger: ApiLogger;
}

/**
 * What follows a request's result once it is stored, by whoever stored it (a poll, the sync wait, the settler, a
 * cancel): the unspent part of its hold goes back to the key's spend counters, and its webhook message is recorded
 * in the outbox (sent later by the webhook sender, never here). Both steps are idempotent (a refund id and a
 * message id per request), so concurrent settlers may both run this; a failure is logged and never undoes or holds
 * up the settlement itself.
 */
export async function afterSettle(deps: AfterSettleDeps, record: RequestRecord): Promise<void> {
  const result = record.result;
  if (!result) return;
  await Promise.all([
    record.spendCounted && deps.spend
      ? deps.spend
          .giveBack({
            keyId: record.keyId,
            refundId: record.requestId,
            amount: record.holdAmount - result.cost,
            day: utcDay(record.createdAt),
          })
          .catch((error: unknown) =>
            deps.logger.error("spend give-back failed", { requestId: record.requestId, error }),
          )
      : undefined,
    record.webhook && deps.webhooks && wants(record.webhook.events, result.status)
      ? deps.webhooks
          .add({
            deliveryId: webhookMessageId(record.requestId, result.status),
            requestId: record.requestId,
            keyId: record.keyId,
            url: record.webhook.url,
            payload: JSON.stringify({
              type: `query.${result.status}`,
              timestamp: iso(result.settledAt),
              data: jobView({ record, status: result.status }),
            }),
            status: "pending",
            attempts: 0,
            nextAt: deps.clock.now(),
            createdAt: deps.clock.now(),
          })
          .catch((error: unknown) => deps.logger.error("webhook not recorded", { requestId: record.requestId, error }))
      : undefined,
  ]);
}

function wants(events: readonly WebhookEvent[], status: string): boolean {
  return events.includes("completed") || (events as readonly string[]).includes(status);
}

/** The `webhook-id` of a query's final-state message: the same for every recording of it (receivers dedupe on it). */
export const webhookMessageId = (requestId: string, status: string) => `msg_${requestId}_${status}`;
