import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ExpertAnswer, JobError, JobRecord } from "../../core/jobs/schema.ts";
import type { JobClaim, JobStore, Transition } from "../../core/ports/jobs.ts";
import { type AdapterLogger, stderrLogger } from "../aws/logger.ts";
import { batchGetAll, batchPutAll, type Item, isConditionalCheckFailed } from "./dynamo.ts";
import { DEFAULT_JOB_RETENTION_SECONDS, JOB_SK, jobKey } from "./jobs-keys.ts";

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

const LIVE = "attribute_exists(pk) AND #status IN (:queued, :running)";

/** A claim's fields, each equal to the record's (names, since some are DynamoDB reserved words). */
const CLAIM_FIELDS = ["requestId", "kind", "task", "uid", "hotkey", "inputDigest"] as const;
const CLAIM_CONDITION = CLAIM_FIELDS.map((f) => ` AND #c_${f} = :c_${f}`).join("");
const CLAIM_NAMES = Object.fromEntries(CLAIM_FIELDS.map((f) => [`#c_${f}`, f]));
const claimValues = (claim: JobClaim) => Object.fromEntries(CLAIM_FIELDS.map((f) => [`:c_${f}`, claim[f]]));

/**
 * JobStore on the `jobs` table. Each transition is one conditional UpdateItem that only passes while the job is
 * queued or running, so the first terminal write wins and a redelivered message cannot overwrite it. No
 * transactions and no ReturnValuesOnConditionCheckFailure (dynalite has neither): a refused write re-reads the item.
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
    // One put per id (a batch refuses two writes of one key); expired items read as absent and are replaced, as
    // `create` replaces them.
    await batchPutAll(
      this.doc,
      this.tableName,
      [...missing.values()].map((r) => this.itemOf(r)),
    );
    return existing;
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const output = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: jobKey(jobId), ConsistentRead: true }),
    );
    return output.Item ? this.parse(output.Item) : null;
  }

  /** Records in the order of `jobIds` (duplicates once); missing, expired or corrupt ones are left out. */
  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    const unique = [...new Set(jobIds)];
    const items = await batchGetAll(this.doc, this.tableName, unique.map(jobKey));
    const byId = new Map<string, JobRecord>();
    for (const item of items) {
      const record = this.parse(item);
      if (record) byId.set(record.jobId, record);
    }
    return unique.flatMap((jobId) => byId.get(jobId) ?? []);
  }

  markRunning(jobId: string, workerId: string, at: number, claim?: JobClaim): Promise<Transition> {
    // startedAt keeps the first start; workerId names the latest delivery's worker.
    return this.transition(
      jobId,
      "SET #status = :running, workerId = :workerId, startedAt = if_not_exists(startedAt, :at) ADD attempts :one",
      { ":workerId": workerId, ":at": at, ":one": 1, ...(claim ? claimValues(claim) : {}) },
      claim ? CLAIM_CONDITION : "",
      claim ? CLAIM_NAMES : {},
    );
  }

  complete(jobId: string, answer: ExpertAnswer, at: number, base?: JobRecord): Promise<Transition> {
    const parsed = ExpertAnswer.parse(answer);
    const end = { status: "succeeded", answer: parsed, finishedAt: at, workerId: parsed.workerId } as const;
    return this.finish(jobId, end, base, () =>
      this.transition(jobId, "SET #status = :succeeded, answer = :answer, finishedAt = :at, workerId = :workerId", {
        ":succeeded": "succeeded",
        ":answer": parsed,
        ":at": at,
        ":workerId": parsed.workerId,
      }),
    );
  }

  fail(jobId: string, error: JobError, at: number, base?: JobRecord): Promise<Transition> {
    const parsed = JobError.parse(error);
    return this.finish(jobId, { status: "failed", error: parsed, finishedAt: at }, base, () =>
      this.transition(jobId, "SET #status = :failed, #error = :error, finishedAt = :at", {
        ":failed": "failed",
        ":error": parsed,
        ":at": at,
      }),
    );
  }

  cancel(jobId: string, at: number, base?: JobRecord): Promise<Transition> {
    return this.finish(jobId, { status: "canceled", finishedAt: at }, base, () =>
      this.transition(jobId, "SET #status = :canceled, finishedAt = :at", { ":canceled": "canceled", ":at": at }),
    );
  }

  /** Only once the deadline has passed (`deadline <= at`); before that a job can be canceled, not expired. */
  expire(jobId: string, at: number, base?: JobRecord): Promise<Transition> {
    const update = () =>
      this.transition(
        jobId,
        "SET #status = :expired, finishedAt = :at",
        { ":expired": "expired", ":at": at },
        " AND deadline <= :at",
      );
    const due = base !== undefined && base.deadline <= at;
    return due ? this.finish(jobId, { status: "expired", finishedAt: at }, base, update) : update();
  }

  /**
   * A terminal write. With `base` (a paid job, which has no item until now) it is first tried as the creation of
   * the item in its final state (one conditional put, the usual case); an item already there (a job created
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

  /** Writes the item unless one exists (an expired one that TTL has not swept yet counts as absent, as on read). */
  private async putNew(record: JobRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.itemOf(record),
          ConditionExpression: "attribute_not_exists(pk) OR expireAt < :nowSeconds",
          ExpressionAttributeValues: { ":nowSeconds": Math.floor(this.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private itemOf(record: JobRecord): Item {
    return {
      ...record,
      ...jobKey(record.jobId),
      // No index keys: a request's job ids follow from its record (functions/api/flow/ids.ts), and an item in the
      // table's gsi1 costs an index write when it enters (and, on a table created before the index went keys-only,
      // each of its writes copied there again on AWS).
      expireAt: Math.ceil(record.deadline / 1000) + this.retentionSeconds,
    };
  }

  private async transition(
    jobId: string,
    update: string,
    values: Record<string, unknown>,
    extraCondition = "",
    extraNames: Record<string, string> = {},
  ): Promise<Transition> {
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: jobKey(jobId),
          UpdateExpression: update,
          ConditionExpression: LIVE + extraCondition,
          // `status` and `error` are DynamoDB reserved words.
          ExpressionAttributeNames: {
            "#status": "status",
            ...(update.includes("#error") ? { "#error": "error" } : {}),
            ...extraNames,
          },
          ExpressionAttributeValues: { ":queued": "queued", ":running": "running", ...values },
          ReturnValues: "ALL_NEW",
        }),
      );
      const job = output.Attributes ? this.parse(output.Attributes) : null;
      return job ? { ok: true, job } : { ok: false, job: null };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { ok: false, job: await this.get(jobId) };
      throw error;
    }
  }

  /** Item -> record; expired or corrupt items read as absent (corrupt ones are logged, never thrown). */
  private parse(item: Item): JobRecord | null {
    const expireAt = item.expireAt;
    if (typeof expireAt === "number" && expireAt * 1000 < this.now()) return null;
    const parsed = JobRecord.safeParse(item);
    if (parsed.success && item.sk === JOB_SK) return parsed.data;
    this.logger("corrupt job item ignored", {
      table: this.tableName,
      pk: typeof item.pk === "string" ? item.pk : undefined,
      issues: parsed.success ? ["sk"] : parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.code}`),
    });
    return null;
  }
}
