import type { ExpertAnswer, JobError, JobRecord } from "../jobs/schema.ts";

/**
 * What a job's message claims about its job (core/jobs/integrity.ts `recordMismatch` compares the same fields): a
 * worker's start passes only when the record says exactly this, so the one conditional write both checks the
 * message against the record and marks the job running (issue 17: no separate read per job).
 */
export interface JobClaim {
  readonly requestId: string;
  readonly kind: JobRecord["kind"];
  readonly task: string;
  readonly uid: number;
  readonly hotkey: string;
  readonly inputDigest: string;
}

/** One job's answer for `JobStore.completeMany`: `complete`'s arguments. */
export interface CompleteEntry {
  readonly jobId: string;
  readonly answer: ExpertAnswer;
  readonly at: number;
  readonly base?: JobRecord;
}

/** Outcome of a conditional state change. `conflict` carries the record as it is now. */
export type Transition =
  | { readonly ok: true; readonly job: JobRecord }
  | { readonly ok: false; readonly job: JobRecord | null };

/**
 * Jobs port (DynamoDB in the cloud, dynalite locally). Every state change is a single-item conditional write,
 * so a redelivered message or a second worker can never overwrite a finished job (first write wins).
 *
 * A paid job has no item until its first terminal write (issue 17: no create per job, no `running` write): its
 * request record says everything its creator would have recorded (core/jobs/paid-job.ts `paidJobOf`), and the
 * terminal writes take that as `base`. With `base`, a terminal write on a job with no item creates it in that state
 * (conditionally: a job that has an item follows the usual rules), so the first terminal write still wins. A paid
 * job with no item reads as absent (not yet finished).
 */
export interface JobStore {
  /** Creates the record in status `queued`; false when a job with this id already exists. */
  create(job: JobRecord): Promise<boolean>;
  /**
   * Creates in status `queued` each of the records whose job does not exist yet, in batches (one read of them all,
   * then batch writes of the missing: ~1/25 of the calls of a `create` each), and returns the ones that existed,
   * as stored. For ids only this caller creates, such as a validator epoch's jobs: unlike `create` it is not atomic
   * against another creator of the same id between its read and its write.
   */
  createMany(jobs: readonly JobRecord[]): Promise<JobRecord[]>;
  get(jobId: string): Promise<JobRecord | null>;
  /** Many ids at once (BatchGet); missing ids are absent from the result. */
  getMany(jobIds: readonly string[]): Promise<JobRecord[]>;
  /**
   * queued|running -> running, increments `attempts`. Fails when the job is terminal, or (with `claim`) when the
   * record does not match the claim in every field; a refusal returns the record as it is, to tell which.
   */
  markRunning(jobId: string, workerId: string, at: number, claim?: JobClaim): Promise<Transition>;
  /** queued|running -> succeeded with the answer. Fails (and leaves the first answer) when already terminal. */
  complete(jobId: string, answer: ExpertAnswer, at: number, base?: JobRecord): Promise<Transition>;
  /**
   * `complete` of each entry, each with its own outcome (first write wins per job), or its own error: never
   * rejects. Entries that are jobs of one paid request with a `base` each may be stored together in one write
   * (issue 17: a worker that answered a query's k jobs together pays one write, not k), whose error is then all of
   * theirs; an entry already finished elsewhere makes them go one by one.
   */
  completeMany(entries: readonly CompleteEntry[]): Promise<PromiseSettledResult<Transition>[]>;
  /** queued|running -> failed. */
  fail(jobId: string, error: JobError, at: number, base?: JobRecord): Promise<Transition>;
  /** queued|running -> canceled. */
  cancel(jobId: string, at: number, base?: JobRecord): Promise<Transition>;
  /** queued|running -> expired (deadline passed before an answer). */
  expire(jobId: string, at: number, base?: JobRecord): Promise<Transition>;
}
