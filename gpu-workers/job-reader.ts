import type { JobRecord } from "../core/jobs/schema.ts";
import type { JobStore } from "../core/ports/jobs.ts";
import { TurnBatch } from "./turn-batch.ts";

/**
 * Reads job records for the worker, one BatchGet per turn of the event loop (turn-batch.ts): a receive of ten
 * validation jobs costs one read call instead of ten claim writes (issue 17). Strongly consistent (JobStore.getMany):
 * the validator writes a job's record before its message, and a stale miss would drop the message as forged.
 */
export class JobReader {
  private readonly batch: TurnBatch<JobRecord>;

  constructor(jobs: Pick<JobStore, "getMany">) {
    this.batch = new TurnBatch(async (ids) => new Map((await jobs.getMany(ids)).map((r) => [r.jobId, r])));
  }

  get(jobId: string): Promise<JobRecord | null> {
    return this.batch.get(jobId);
  }
}
