import type { RequestRecord, RequestStore } from "../core/ports/requests.ts";

/**
 * Reads paid requests' records for the worker, one BatchGet for all the reads asked for within the same turn of the
 * event loop (the messages of one receive are handled together): a query's k jobs share one request item, so a
 * receive of ten messages costs one read call instead of ten (issue 17). Nothing is cached: a job's check must see
 * its request as it is now (a cancel, a settle).
 *
 * The read is eventually consistent (half the read units), then strongly consistent for the records it found
 * missing or still `holding`: a job message is sent only after its request is written `dispatched`, so only those
 * can be stale in a way that matters (read as they are, the job would be dropped as unknown or as a duplicate). A
 * stale `dispatched` where the request is now canceling or settled is what a strong read made a moment earlier
 * would have seen: the job's terminal write is conditional and the settler's view of it unchanged.
 */
export class RequestReader {
  private waiting = new Map<string, { resolve: (r: RequestRecord | null) => void; reject: (e: unknown) => void }[]>();

  constructor(private readonly requests: Pick<RequestStore, "getMany">) {}

  get(requestId: string): Promise<RequestRecord | null> {
    if (this.waiting.size === 0) setImmediate(() => void this.flush());
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(requestId) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(requestId, list);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    try {
      const ids = [...batch.keys()];
      const found = new Map((await this.requests.getMany(ids, { eventually: true })).map((r) => [r.requestId, r]));
      const unsure = ids.filter((id) => (found.get(id)?.phase ?? "holding") === "holding");
      if (unsure.length > 0) for (const r of await this.requests.getMany(unsure)) found.set(r.requestId, r);
      for (const [id, list] of batch) for (const w of list) w.resolve(found.get(id) ?? null);
    } catch (error) {
      for (const list of batch.values()) for (const w of list) w.reject(error);
    }
  }
}
