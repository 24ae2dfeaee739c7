import { requestSortKey } from "../../core/jobs/list-cursor.ts";
import type { DiscardOutcome, RequestRecord, RequestResult, RequestStore } from "../../core/ports/requests.ts";
import { copyRecord } from "./memory-clone.ts";

/** In-memory RequestStore: each method is one atomic step, like the conditional writes of the DynamoDB one. */
export class MemoryRequestStore implements RequestStore {
  private readonly items = new Map<string, RequestRecord>();

  async create(record: RequestRecord): Promise<boolean> {
    if (this.items.has(record.requestId)) return false;
    this.items.set(record.requestId, copyRecord(record));
    return true;
  }

  async get(requestId: string): Promise<RequestRecord | null> {
    const r = this.items.get(requestId);
    return r ? copyRecord(r) : null;
  }

  async getMany(requestIds: readonly string[]): Promise<RequestRecord[]> {
    return [...new Set(requestIds)].flatMap((id) => {
      const r = this.items.get(id);
      return r ? [copyRecord(r)] : [];
    });
  }

  async setPhase(
    requestId: string,
    from: readonly RequestRecord["phase"][],
    to: RequestRecord["phase"],
  ): Promise<RequestRecord | null> {
    const r = this.items.get(requestId);
    if (!r || !from.includes(r.phase)) return null;
    r.phase = to;
    return copyRecord(r);
  }

  async settle(requestId: string, result: RequestResult): Promise<RequestRecord | null> {
    const r = this.items.get(requestId);
    if (!r) return null;
    if (!r.result) {
      r.result = copyRecord(result);
      r.phase = "settled";
    }
    return copyRecord(r);
  }

  async listByAccount(
    accountId: string,
    page: { readonly limit: number; readonly before?: string },
  ): Promise<{ records: RequestRecord[]; next: string | null }> {
    const sorted = [...this.items.values()]
      .filter((r) => r.accountId === accountId)
      .map((r) => ({ r, sk: requestSortKey(r.createdAt, r.requestId) }))
      .filter((x) => page.before === undefined || x.sk < page.before)
      .sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
    const slice = sorted.slice(0, page.limit);
    const last = slice.at(-1);
    return {
      records: slice.map((x) => copyRecord(x.r)),
      next: sorted.length > page.limit && last ? last.sk : null,
    };
  }

  async discard(requestId: string): Promise<DiscardOutcome> {
    const r = this.items.get(requestId);
    if (!r) return "absent";
    if ((r.phase !== "holding" && r.phase !== "dispatched") || r.result !== undefined) return "kept";
    this.items.delete(requestId);
    return "discarded";
  }
}
