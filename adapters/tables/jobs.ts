import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ExpertAnswer, JobError, JobRecord } from "../../core/jobs/schema.ts";
import type { CompleteEntry, JobClaim, JobStore, Transition } from "../../core/ports/jobs.ts";
import { type AdapterLogger, stderrLogger } from "../aws/logger.ts";
import { batchGetAll, batchPutAll, type Item, isConditionalCheckFailed, written } from "./dynamo.ts";
import {
  DEFAULT_JOB_RETENTION_SECONDS,
  type JobPlace,
  jobItemKeys,
  jobPlace,
  jobsAmong,
  parseStoredJob,
  storedJob,
} from "./jobs-keys.ts";

export interface DynamoJobStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  /** Physical name of the jobs table (prefix + JOBS_TABLE.name). */
  readonly tableName: string;
  /** Told about corrupt items (which then read as absent). Default: JSON lines on stderr. */
  readonly logger?: AdapterLogger;
  /** Records expire this long after their deadline. Default 7 days. */
  readonly retentionSeconds?: number;
  /** ms since epoch; injectable for tests of expiry. */
  readonly now?: () => number;
}

/** A claim's fields, each equal to the record's (names, since some are DynamoDB reserved words). */
const CLAIM_FIELDS = ["requestId", "kind", "task", "uid", "hotkey", "inputDigest"] as const;

/** A job's fields once `answer` is stored. */
function completionOf(answer: ExpertAnswer, at: number) {
  return { status: "succeeded", answer, finishedAt: at, workerId: answer.workerId } as const;
}

/** A transition as fields to write, rendered for a job's own item or for its slot on a shared one. */
interface Change {
  readonly set: Readonly<Record<string, unknown>>;
  /** Fields written only when absent (the first start). */
  readonly keepFirst?: Readonly<Record<string, unknown>>;
  /** Adds one to `attempts`. */
  readonly countAttempt?: boolean;
  readonly claim?: JobClaim;
  /** Passes only once the deadline is at or before this (expire). */
  readonly dueBy?: number;
}

/**
 * JobStore on the `jobs` table. Each transition is one conditional write that only passes while the job is queued
 * or running, so the first terminal write wins and a redelivered message cannot overwrite it. A paid job is a slot
 * of its request's jobs item, any other job its own item (jobs-keys.ts `jobPlace`); the rules are the same. No
 * transactions and no ReturnValuesOnConditionCheckFailure (dynalite has neither): a refused write re-reads the job.
 */
export class DynamoJobStore implements JobStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly logger: AdapterLogger;
  private readonly retentionSeconds: number;
  private readonly now: () => number;

  constructor(options: DynamoJobStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.logger = options.logger ?? stderrLogger;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_JOB_RETENTION_SECONDS;
    this.now = options.now ?? Date.now;
  }

  async create(job: JobRecord): Promise<boolean> {
    return this.putNew(JobRecord.parse({ ...job, status: "queued" }));
  }

  async createMany(jobs: readonly JobRecord[]): Promise<JobRecord[]> {
    const records = jobs.map((job) => JobRecord.parse({ ...job, status: "queued" }));
    // Strongly consistent (batchGetAll's default): a record written just before is seen, so it is not overwritten.
    const existing = await this.getMany(records.map((r) => r.jobId));
    const there = new Set(existing.map((r) => r.jobId));
    const missing = new Map(records.filter((r) => !there.has(r.jobId)).map((r) => [r.jobId, r]));
    // Own items in batches (one put per id: a batch refuses two writes of one key; expired items read as absent and
    // are replaced, as `create` replaces them); slots of shared items one by one, since a put would replace the item.
    const own = [...missing.values()].filter((r) => jobPlace(r.jobId).slot === undefined);
    await batchPutAll(
      this.doc,
      this.tableName,
      own.map((r) => this.itemOf(r)),
    );
    for (const r of missing.values()) if (jobPlace(r.jobId).slot !== undefined) await this.putNew(r);
    return existing;
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const place = jobPlace(jobId);
    const output = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: place.key, ConsistentRead: true }),
    );
    return this.parse(output.Item, place, jobId);
  }

  /** Records in the order of `jobIds` (duplicates once); missing, expired or corrupt ones are left out. */
  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    const items = await batchGetAll(this.doc, this.tableName, jobItemKeys(jobIds));
    return jobsAmong(items, jobIds, this.now(), (pk, issues) => this.corrupt(pk, issues));
  }

  markRunning(jobId: string, workerId: string, at: number, claim?: JobClaim): Promise<Transition> {
    // startedAt keeps the first start; workerId names the latest delivery's worker.
    return this.transition(jobId, {
      set: { status: "running", workerId },
      keepFirst: { startedAt: at },
      countAttempt: true,
      ...(claim ? { claim } : {}),
    });
  }

  complete(jobId: string, answer: ExpertAnswer, at: number, base?: JobRecord): Promise<Transition> {
    const end = this.completion(answer, at);
    return this.finish(jobId, end, base, () => this.transition(jobId, { set: end }));
  }

  async completeMany(entries: readonly CompleteEntry[]): Promise<PromiseSettledResult<Transition>[]> {
    const together = this.sharedSlotWrite(entries);
    if (together !== null) {
      let stored: boolean;
      try {
        stored = await this.writeSlots(together.key, together.records);
      } catch (reason) {
        // Failed, or its fate unknown: the error is every entry's (a retry that finds its answer stored is a duplicate).
        return entries.map(() => ({ status: "rejected", reason }));
      }
      if (stored) return together.records.map(([, job]) => ({ status: "fulfilled", value: { ok: true, job } }));
    }
    // Apart (one of them was finished elsewhere, or they are not one request's new jobs): each its own first write,
    // and its own error (a job stored here must not be failed by its sibling's).
    // (async: an answer that does not parse is its own job's error, not a throw that fails the call.)
    return Promise.allSettled(entries.map(async (e) => this.complete(e.jobId, e.answer, e.at, e.base)));
  }

  fail(jobId: string, error: JobError, at: number, base?: JobRecord): Promise<Transition> {
    const end = { status: "failed", error: JobError.parse(error), finishedAt: at } as const;
    return this.finish(jobId, end, base, () => this.transition(jobId, { set: end }));
  }

  cancel(jobId: string, at: number, base?: JobRecord): Promise<Transition> {
    const end = { status: "canceled", finishedAt: at } as const;
    return this.finish(jobId, end, base, () => this.transition(jobId, { set: end }));
  }

  /** Only once the deadline has passed (`deadline <= at`); before that a job can be canceled, not expired. */
  expire(jobId: string, at: number, base?: JobRecord): Promise<Transition> {
    const end = { status: "expired", finishedAt: at } as const;
    const update = () => this.transition(jobId, { set: end, dueBy: at });
    const due = base !== undefined && base.deadline <= at;
    return due ? this.finish(jobId, end, base, update) : update();
  }

  private completion(answer: ExpertAnswer, at: number) {
    return completionOf(ExpertAnswer.parse(answer), at);
  }

  /**
   * A terminal write. With `base` (a paid job, which has no record until now) it is first tried as the creation of
   * the record in its final state (one conditional write, the usual case); a record already there (a job created
   * eagerly, or finished by someone else first) takes the usual conditional update, which refuses a finished job.
   */
  private async finish(
    jobId: string,
    end: Partial<JobRecord>,
    base: JobRecord | undefined,
    update: () => Promise<Transition>,
  ): Promise<Transition> {
    if (base === undefined || base.jobId !== jobId) return update();
    const job = JobRecord.parse({ ...base, ...end });
    if (await this.putNew(job)) return { ok: true, job };
    return update();
  }

  /**
   * The one write that stores `entries` together: every one a new job (with its `base`) of the same paid request,
   * at least two of them, each once. null otherwise.
   */
  private sharedSlotWrite(
    entries: readonly CompleteEntry[],
  ): { key: JobPlace["key"]; records: [string, JobRecord][] } | null {
    if (entries.length < 2) return null;
    const first = jobPlace(entries[0]?.jobId ?? "");
    const records = new Map<string, JobRecord>();
    for (const e of entries) {
      const place = jobPlace(e.jobId);
      if (place.slot === undefined || place.key.pk !== first.key.pk || e.base?.jobId !== e.jobId) return null;
      if (records.has(place.slot)) return null;
      const answer = ExpertAnswer.safeParse(e.answer);
      const record = answer.success && JobRecord.safeParse({ ...e.base, ...completionOf(answer.data, e.at) });
      // One that does not parse goes apart, where it fails alone.
      if (!record || !record.success) return null;
      records.set(place.slot, record.data);
    }
    return { key: first.key, records: [...records] };
  }

  /** Writes the record of a job unless it has one (an expired one reads as absent and is replaced, as on read). */
  private putNew(record: JobRecord): Promise<boolean> {
    const place = jobPlace(record.jobId);
    if (place.slot !== undefined) return this.writeSlots(place.key, [[place.slot, record]]);
    return written(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.itemOf(record),
          ConditionExpression: "attribute_not_exists(pk) OR expireAt < :nowSeconds",
          ExpressionAttributeValues: { ":nowSeconds": Math.floor(this.now() / 1000) },
        }),
      ),
    );
  }

  /** Sets each slot to its record, all or none: only if none of them holds a live record yet. */
  private writeSlots(key: JobPlace["key"], records: readonly [string, JobRecord][]): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":nowSeconds": Math.floor(this.now() / 1000) };
    const sets: string[] = [];
    const conditions: string[] = [];
    let expireAt = 0;
    records.forEach(([slot, record], i) => {
      names[`#s${i}`] = slot;
      values[`:r${i}`] = { ...record, expireAt: this.expireAtOf(record) };
      sets.push(`#s${i} = :r${i}`);
      conditions.push(`(attribute_not_exists(#s${i}) OR #s${i}.expireAt < :nowSeconds)`);
      expireAt = Math.max(expireAt, this.expireAtOf(record));
    });
    // The item's own expireAt is DynamoDB's TTL; a stale slot beside a new one is filtered on read by its own.
    values[":expireAt"] = expireAt;
    return written(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET ${sets.join(", ")}, expireAt = :expireAt`,
          ConditionExpression: conditions.join(" AND "),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  private expireAtOf(record: JobRecord): number {
    return Math.ceil(record.deadline / 1000) + this.retentionSeconds;
  }

  private itemOf(record: JobRecord): Item {
    return {
      ...record,
      ...jobPlace(record.jobId).key,
      // No index keys: a request's job ids follow from its record (functions/api/flow/ids.ts), and an item in the
      // table's gsi1 costs an index write when it enters (and, on a table created before the index went keys-only,
      // each of its writes copied there again on AWS).
      expireAt: this.expireAtOf(record),
    };
  }

  /** One conditional write of `change` on the job's record, wherever it lives; refused, the record as it is now. */
  private async transition(jobId: string, change: Change): Promise<Transition> {
    const place = jobPlace(jobId);
    // `status` and `error` are DynamoDB reserved words: every field goes by name.
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":queued": "queued", ":running": "running" };
    const field = (name: string) => {
      names[`#f_${name}`] = name;
      return place.slot === undefined ? `#f_${name}` : `#slot.#f_${name}`;
    };
    if (place.slot !== undefined) names["#slot"] = place.slot;
    const sets = Object.entries(change.set).map(([name, value]) => {
      values[`:s_${name}`] = value;
      return `${field(name)} = :s_${name}`;
    });
    for (const [name, value] of Object.entries(change.keepFirst ?? {})) {
      values[`:k_${name}`] = value;
      sets.push(`${field(name)} = if_not_exists(${field(name)}, :k_${name})`);
    }
    if (change.countAttempt) {
      values[":one"] = 1;
      sets.push(`${field("attempts")} = ${field("attempts")} + :one`);
    }
    const conditions = [`${field("status")} IN (:queued, :running)`];
    // DynamoDB refuses a SET below a missing map with a ValidationException: a missing slot must fail the condition.
    conditions.unshift(place.slot === undefined ? "attribute_exists(pk)" : "attribute_exists(#slot)");
    for (const name of change.claim ? CLAIM_FIELDS : []) {
      values[`:c_${name}`] = change.claim?.[name];
      conditions.push(`${field(name)} = :c_${name}`);
    }
    if (change.dueBy !== undefined) {
      values[":dueBy"] = change.dueBy;
      conditions.push(`${field("deadline")} <= :dueBy`);
    }
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: place.key,
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: conditions.join(" AND "),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      const job = this.parse(output.Attributes, place, jobId);
      return job ? { ok: true, job } : { ok: false, job: null };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { ok: false, job: await this.get(jobId) };
      throw error;
    }
  }

  /** Item -> record; expired or corrupt records read as absent (corrupt ones are logged, never thrown). */
  private parse(item: Item | undefined, place: JobPlace, jobId: string): JobRecord | null {
    const parsed = parseStoredJob(storedJob(item, place), jobId, this.now());
    if ("job" in parsed) return parsed.job;
    if ("corrupt" in parsed) this.corrupt(item?.pk, parsed.corrupt);
    return null;
  }

  private corrupt(pk: unknown, issues: string[]): void {
    this.logger("corrupt job item ignored", {
      table: this.tableName,
      pk: typeof pk === "string" ? pk : undefined,
      issues,
    });
  }
}
