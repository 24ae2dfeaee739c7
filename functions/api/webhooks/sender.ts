import { Webhook } from "standardwebhooks";
import type { KeyStore } from "../../../core/ports/keys.ts";
import type { WebhookDelivery, WebhookOutbox } from "../../../core/ports/webhooks.ts";
import type { ApiLogger, Clock } from "../deps.ts";
import { resolvesPublic, type WebhookUrlPolicy } from "./url-policy.ts";

/** Waits after failed attempts 1, 2, ... (the Standard Webhooks schedule, shortened); then the message fails. */
export const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 7_200_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** One attempt's time limit; the lease is longer, so a sender that dies mid-attempt frees the message after it. */
const ATTEMPT_TIMEOUT_MS = 10_000;
const LEASE_MS = 60_000;

export interface WebhookSenderDeps {
  readonly outbox: WebhookOutbox;
  readonly keys: Pick<KeyStore, "getById">;
  readonly clock: Clock;
  readonly logger: ApiLogger;
  readonly policy: WebhookUrlPolicy;
  readonly fetch?: typeof fetch;
}

export interface SendReport {
  readonly delivered: number;
  readonly retrying: number;
  readonly failed: number;
}

/**
 * Sends the outbox's due messages once each: claimed (so two senders never send the same attempt), signed with the
 * key's webhook secret (webhook-id, webhook-timestamp, webhook-signature), POSTed without following redirects. A
 * 2xx delivers it; anything else schedules the next attempt with backoff, until MAX_ATTEMPTS.
 */
export async function sendDueWebhooks(deps: WebhookSenderDeps, limit = 25): Promise<SendReport> {
  const due = await deps.outbox.due(deps.clock.now(), limit);
  const outcomes = await Promise.all(due.map((d) => sendOne(deps, d)));
  return {
    delivered: outcomes.filter((o) => o === "delivered").length,
    retrying: outcomes.filter((o) => o === "pending").length,
    failed: outcomes.filter((o) => o === "failed").length,
  };
}

async function sendOne(
  deps: WebhookSenderDeps,
  due: WebhookDelivery,
): Promise<"delivered" | "pending" | "failed" | "skipped"> {
  const claimed = await deps.outbox.claim(due.deliveryId, due.attempts, deps.clock.now() + LEASE_MS);
  if (!claimed) return "skipped";
  const key = await deps.keys.getById(claimed.keyId);
  if (!key?.webhookSecret) {
    await deps.outbox.record(claimed.deliveryId, { status: "failed", error: "the key has no webhook secret" });
    return "failed";
  }
  const error = await attempt(deps, claimed, key.webhookSecret);
  if (error === null) {
    await deps.outbox.record(claimed.deliveryId, { status: "delivered", at: deps.clock.now() });
    return "delivered";
  }
  const delay = RETRY_DELAYS_MS[claimed.attempts - 1];
  if (delay === undefined) {
    deps.logger.warn("webhook failed for good", { deliveryId: claimed.deliveryId, error });
    await deps.outbox.record(claimed.deliveryId, { status: "failed", error });
    return "failed";
  }
  await deps.outbox.record(claimed.deliveryId, { status: "pending", nextAt: deps.clock.now() + delay, error });
  return "pending";
}

/** null when the receiver answered 2xx; else why not (no response body is kept: it is the receiver's). */
async function attempt(deps: WebhookSenderDeps, d: WebhookDelivery, secret: string): Promise<string | null> {
  if (!(await resolvesPublic(d.url, deps.policy))) return "the host does not resolve to public addresses only";
  // The signature's time is the wall clock's: receivers check it against theirs (5 min tolerance).
  const sentAt = new Date();
  const signature = new Webhook(secret).sign(d.deliveryId, sentAt, d.payload);
  try {
    const res = await (deps.fetch ?? fetch)(d.url, {
      method: "POST",
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      headers: {
        "content-type": "application/json",
        "user-agent": "intelligence-market-webhooks/1",
        "webhook-id": d.deliveryId,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: d.payload,
    });
    await res.body?.cancel();
    return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : "request failed";
  }
}

/** Runs the sender every `intervalMs` until stopped (the local stack; the cloud runs it on a schedule). */
export function startWebhookSender(deps: WebhookSenderDeps, intervalMs = 1000): () => Promise<void> {
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (running) {
      try {
        await sendDueWebhooks(deps);
      } catch (error) {
        deps.logger.error("webhook sender pass failed", { error });
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs).unref?.();
      });
    }
  })();
  return async () => {
    running = false;
    wake?.();
    await loop;
  };
}
