import type { WebhookDelivery, WebhookOutbox } from "../../core/ports/webhooks.ts";
import { copyRecord } from "./memory-clone.ts";

/** In-memory WebhookOutbox: each method is one atomic step, like the conditional writes of the DynamoDB one. */
export class MemoryWebhookOutbox implements WebhookOutbox {
  private readonly items = new Map<string, WebhookDelivery>();

  async add(delivery: WebhookDelivery): Promise<boolean> {
    if (this.items.has(delivery.deliveryId)) return false;
    this.items.set(delivery.deliveryId, copyRecord(delivery));
    return true;
  }

  async get(deliveryId: string): Promise<WebhookDelivery | null> {
    const d = this.items.get(deliveryId);
    return d ? copyRecord(d) : null;
  }

  async due(now: number, limit: number): Promise<WebhookDelivery[]> {
    return [...this.items.values()]
      .filter((d) => d.status === "pending" && d.nextAt <= now)
      .sort((a, b) => a.nextAt - b.nextAt)
      .slice(0, limit)
      .map((d) => copyRecord(d));
  }

  async claim(deliveryId: string, attempts: number, leaseUntil: number): Promise<WebhookDelivery | null> {
    const d = this.items.get(deliveryId);
    if (d?.status !== "pending" || d.attempts !== attempts) return null;
    d.attempts = attempts + 1;
    d.nextAt = leaseUntil;
    return copyRecord(d);
  }

  async record(deliveryId: string, outcome: Parameters<WebhookOutbox["record"]>[1]): Promise<void> {
    const d = this.items.get(deliveryId);
    if (d?.status !== "pending") return;
    d.status = outcome.status;
    if (outcome.status === "delivered") d.deliveredAt = outcome.at;
    else d.lastError = outcome.error.slice(0, 300);
    if (outcome.status === "pending") d.nextAt = outcome.nextAt;
  }
}
