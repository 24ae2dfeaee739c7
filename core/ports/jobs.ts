import type { ExpertAnswer, JobError, JobRecord } from "../jobs/schema.ts";

/** Outcome of a conditional state change. `conflict` carries the record as it is now. */
export type Transition =
  | { readonly ok: true; readonly job: JobRecord }
  | { readonly ok: false; readonly job: JobRecord | null };

/**
 * Jobs port (DynamoDB in the cloud, dynalite locally). Every state change is a single-item conditional write,
 * so a redelivered message or a second worker can never overwrite a finished job (first write wins).
 */
export interface JobStore {
  /** Creates the record in status `queued`; false when a job with this id already exists. */
  create(job: JobRecord): Promise<boolean>;
  get(jobId: string): Promise<JobRecord | null>;
  /** Many ids at once (BatchGet); missing ids are absent from the result. */
  getMany(jobIds: readonly string[]): Promise<JobRecord[]>;
  /** queued|running -> running, increments `attempts`. Fails when the job is terminal. */
  markRunning(jobId: string, workerId: string, at: number): Promise<Transition>;
  /** queued|running -> succeeded with the answer. Fails (and leaves the first answer) when already terminal. */
  complete(jobId: string, answer: ExpertAnswer, at: number): Promise<Transition>;
  /** queued|running -> failed. */
  fail(jobId: string, error: JobError, at: number): Promise<Transition>;
  /** queued|running -> canceled. */
  cancel(jobId: string, at: number): Promise<Transition>;
  /** queued|running -> expired (deadline passed before an answer). */
  expire(jobId: string, at: number): Promise<Transition>;
}
