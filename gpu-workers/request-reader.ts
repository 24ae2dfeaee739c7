import type { RequestRecord, RequestStore } from "../core/ports/requests.ts";
import { TurnBatch } from "./turn-batch.ts";

/**
 * Reads paid requests' records for the worker, one BatchGet per turn of the event loop (turn-batch.ts): a query's k
 * jobs share one request item, so a receive of ten messages costs one read call instead of ten (issue 17). Nothing
 * is cached: a job's check must see its request as it is now (a cancel, a settle).
 *
 * The read is eventually consistent (half the read units), then strongly consistent for the records it found
 * missing or still `holding`: a job message is sent only after its request is written `dispatched`, so only those
 * can be stale in a way that matters (read as they are, the job would be dropped as unknown or as a duplicate). A
 * stale `dispatched` where the request is now canceling or settled is what a strong read made a moment earlier
 * would have seen: the job's terminal write is conditional and the settler's view of it unchanged.
 */
export class RequestReader {
  private readonly batch: TurnBatch<RequestRecord>;

  constructor(requests: Pick<RequestStore, "getMany">) {
    this.batch = new TurnBatch(async (ids) => {
      const found = new Map((await requests.getMany(ids, { eventually: true })).map((r) => [r.requestId, r]));
      const unsure = ids.filter((id) => (found.get(id)?.phase ?? "holding") === "holding");
      if (unsure.length > 0) for (const r of await requests.getMany(unsure)) found.set(r.requestId, r);
      return found;
    });
  }

  get(requestId: string): Promise<RequestRecord | null> {
    return this.batch.get(requestId);
  }
}
