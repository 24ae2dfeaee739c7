import type { ReserveResult, SpendStore } from "../../core/ports/spend.ts";

/** In-memory SpendStore: each call is one atomic step (no await inside), as the conditional writes are on DynamoDB. */
export class MemorySpendStore implements SpendStore {
  private readonly counters = new Map<string, number>();
  private readonly refunds = new Set<string>();

  async reserve(input: Parameters<SpendStore["reserve"]>[0]): Promise<ReserveResult> {
    const dayKey = `${input.keyId}#${input.day}`;
    const totalKey = `${input.keyId}#total`;
    const day = (this.counters.get(dayKey) ?? 0) + input.amount;
    const total = (this.counters.get(totalKey) ?? 0) + input.amount;
    if (input.limits.perDay !== undefined && day > input.limits.perDay) return { ok: false, limit: "perDay" };
    if (input.limits.total !== undefined && total > input.limits.total) return { ok: false, limit: "total" };
    this.counters.set(dayKey, day);
    this.counters.set(totalKey, total);
    return { ok: true };
  }

  async giveBack(input: Parameters<SpendStore["giveBack"]>[0]): Promise<void> {
    if (this.refunds.has(input.refundId) || input.amount <= 0) return;
    this.refunds.add(input.refundId);
    for (const key of [`${input.keyId}#${input.day}`, `${input.keyId}#total`]) {
      this.counters.set(key, Math.max(0, (this.counters.get(key) ?? 0) - input.amount));
    }
  }

  async spent(keyId: string, day: string): Promise<{ today: number; total: number }> {
    return { today: this.counters.get(`${keyId}#${day}`) ?? 0, total: this.counters.get(`${keyId}#total`) ?? 0 };
  }
}
