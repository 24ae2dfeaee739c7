import { ExpertAnswer, JobError, type JobRecord, TERMINAL_JOB_STATUSES } from "../../core/jobs/schema.ts";
import type { CompleteEntry, JobClaim, JobStore, Transition } from "../../core/ports/jobs.ts";
import { copyRecord } from "./memory-clone.ts";

/**
 * JobStore in memory with the rules of DynamoJobStore (same contract suite): first terminal write wins,
 * transitions only from queued/running, expire only once the deadline has passed. Records are copied in and out,
 * so a caller mutating a returned record cannot change the store.
 */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, JobRecord>();

  /**
   * The record is typed and built by the gateway: it is copied, not re-validated with zod (DynamoJobStore parses
   * because what it writes must survive any caller; a memory store only has to keep its own copy).
   */
  async create(job: JobRecord): Promise<boolean> {
    if (this.jobs.has(job.jobId)) return false;
    const record = copyRecord(job);
    record.status = "queued";
    this.jobs.set(record.jobId, record);
    return true;
  }

  async createMany(jobs: readonly JobRecord[]): Promise<JobRecord[]> {
    const existing = new Map<string, JobRecord>();
    const created = new Set<string>();
    for (const job of jobs) {
      const stored = this.jobs.get(job.jobId);
      if (created.has(job.jobId)) continue;
      if (stored) existing.set(job.jobId, copyRecord(stored));
      else if (await this.create(job)) created.add(job.jobId);
    }
    return [...existing.values()];
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const record = this.jobs.get(jobId);
    return record ? copyRecord(record) : null;
  }

  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    return [...new Set(jobIds)].flatMap((jobId) => {
      const record = this.jobs.get(jobId);
      return record ? [copyRecord(record)] : [];
    });
  }

  async markRunning(jobId: string, workerId: string, at: number, claim?: JobClaim): Promise<Transition> {
    return this.transition(
      jobId,
      (job) => ({ ...job, status: "running", workerId, startedAt: job.startedAt ?? at, attempts: job.attempts + 1 }),
      (job) =>
        claim === undefined ||
        (job.requestId === claim.requestId &&
          job.kind === claim.kind &&
          job.task === claim.task &&
          job.uid === claim.uid &&
          job.hotkey === claim.hotkey &&
          job.inputDigest === claim.inputDigest),
    );
  }

  /** One by one: a map has no write to save. */
  async completeMany(entries: readonly CompleteEntry[]): Promise<PromiseSettledResult<Transition>[]> {
    const results: PromiseSettledResult<Transition>[] = [];
    for (const e of entries) {
      try {
        results.push({ status: "fulfilled", value: await this.complete(e.jobId, e.answer, e.at, e.base) });
      } catch (reason) {
        results.push({ status: "rejected", reason });
      }
    }
    return results;
  }

  async complete(jobId: string, answer: ExpertAnswer, at: number, base?: JobRecord): Promise<Transition> {
    const parsed = ExpertAnswer.parse(answer);
    return this.transition(
      jobId,
      (job) => ({ ...job, status: "succeeded", answer: parsed, finishedAt: at, workerId: parsed.workerId }),
      undefined,
      base,
    );
  }

  async fail(jobId: string, error: JobError, at: number, base?: JobRecord): Promise<Transition> {
    const parsed = JobError.parse(error);
    return this.transition(
      jobId,
      (job) => ({ ...job, status: "failed", error: parsed, finishedAt: at }),
      undefined,
      base,
    );
  }

  async cancel(jobId: string, at: number, base?: JobRecord): Promise<Transition> {
    return this.transition(jobId, (job) => ({ ...job, status: "canceled", finishedAt: at }), undefined, base);
  }

  async expire(jobId: string, at: number, base?: JobRecord): Promise<Transition> {
    return this.transition(
      jobId,
      (job) => ({ ...job, status: "expired", finishedAt: at }),
      (job) => job.deadline <= at,
      base,
    );
  }

  /** Synchronous check-and-set: the event loop makes it atomic, as the conditional write is on DynamoDB. */
  private transition(
    jobId: string,
    next: (job: JobRecord) => JobRecord,
    allowed: (job: JobRecord) => boolean = () => true,
    /** A paid job's record as its request implies it: stands in for a job with no record yet (ports/jobs.ts). */
    base?: JobRecord,
  ): Transition {
    const current = this.jobs.get(jobId) ?? (base?.jobId === jobId ? base : undefined);
    if (!current) return { ok: false, job: null };
    if (TERMINAL_JOB_STATUSES.has(current.status) || !allowed(current)) {
      return { ok: false, job: copyRecord(current) };
    }
    const updated = copyRecord(next(current));
    this.jobs.set(jobId, updated);
    return { ok: true, job: copyRecord(updated) };
  }
}
