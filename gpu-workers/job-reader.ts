import type { JobRecord } from "../core/jobs/schema.ts";
import type { JobStore } from "../core/ports/jobs.ts";

/**
 * Reads job records for the worker, one BatchGet for all the reads asked for within the same turn of the event loop
 * (the messages of one receive are handled together): a receive of ten validation jobs costs one read call instead
 * of ten claim writes (issue 17). Strongly consistent (JobStore.getMany): the validator writes a job's record before
 * its message, and a stale miss would drop the message as forged. Nothing is cached: each check sees the record as
 * it is now.
 */
export class JobReader {
  private waiting = new Map<string, { resolve: (r: JobRecord | null) => void; reject: (e: unknown) => void }[]>();

  constructor(private readonly jobs: Pick<JobStore, "getMany">) {}

  get(jobId: string): Promise<JobRecord | null> {
    if (this.waiting.size === 0) setImmediate(() => void this.flush());
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(jobId) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(jobId, list);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    try {
      const found = new Map((await this.jobs.getMany([...batch.keys()])).map((r) => [r.jobId, r]));
      for (const [id, list] of batch) for (const w of list) w.resolve(found.get(id) ?? null);
    } catch (error) {
      for (const list of batch.values()) for (const w of list) w.reject(error);
    }
  }
}
