import { z } from "zod";

/** One webhook message to one URL. Its id is the `webhook-id` header: the receiver deduplicates on it. */
export const WebhookDelivery = z.object({
  /** `msg_<requestId>_<event>`: the same event of the same query is the same message, however often recorded. */
  deliveryId: z.string().min(1).max(400),
  requestId: z.string(),
  /** The key whose webhook secret signs it. */
  keyId: z.string(),
  url: z.string(),
  /** The exact body sent (signed as is). */
  payload: z.string(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number().int().min(0),
  /** When it is next due (also the lease of an attempt in flight: a crashed sender's attempt comes due again). */
  nextAt: z.number().int(),
  createdAt: z.number().int(),
  lastError: z.string().max(300).optional(),
  deliveredAt: z.number().int().optional(),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/**
 * The durable outbox of webhook deliveries: settling only records a message here (one conditional put), and a
 * sender drains due messages apart from any request, so a slow or failing receiver never holds up settlement.
 */
export interface WebhookOutbox {
  /** Records a new pending message; false when its id is already there (nothing changes: deduplicated). */
  add(delivery: WebhookDelivery): Promise<boolean>;
  get(deliveryId: string): Promise<WebhookDelivery | null>;
  /** Pending messages due at `now`, soonest first. */
  due(now: number, limit: number): Promise<WebhookDelivery[]>;
  /**
   * Takes a due message for one attempt: attempts+1 and nextAt = `leaseUntil`, only if it is still pending with
   * `attempts` as read (two senders never send the same attempt). The record as claimed, or null.
   */
  claim(deliveryId: string, attempts: number, leaseUntil: number): Promise<WebhookDelivery | null>;
  /** After an attempt: delivered, failed for good, or pending again at `nextAt`. */
  record(
    deliveryId: string,
    outcome:
      | { readonly status: "delivered"; readonly at: number }
      | { readonly status: "failed"; readonly error: string }
      | { readonly status: "pending"; readonly nextAt: number; readonly error: string },
  ): Promise<void>;
}
