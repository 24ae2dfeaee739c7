import { JobRecord } from "../../core/jobs/schema.ts";
import type { Item } from "./dynamo.ts";

/** Key layout of job records in the `jobs` table (generic single-table keys, see infra/definitions.ts). */
export const JOB_SK = "JOB";
/** A paid request's jobs, all on one item beside its record (`REQ#<requestId>` / `REQ`, requests.ts). */
export const PAID_JOBS_SK = "JOBS";

export function jobPk(jobId: string): string {
  return `JOB#${jobId}`;
}

export function requestPk(requestId: string): string {
  return `REQ#${requestId}`;
}

export function jobKey(jobId: string): { readonly pk: string; readonly sk: string } {
  return { pk: jobPk(jobId), sk: JOB_SK };
}

/**
 * A paid job's id: its request's (`req_` + 24 or 32 hex digits, functions/api/flow/ids.ts) and its expert's uid. A
 * validation job's id has three parts (`<request>:<item>:<uid>`), so it never matches.
 */
const PAID_JOB_ID = /^(req_[0-9a-f]{24,32}):(\d{1,9})$/;

/**
 * Where a job's record lives. A paid job is the attribute `j<uid>` of its request's jobs item (issue 17): the k
 * answers a worker finishes together for one query are then one conditional write, not k puts, and the settler
 * reads them as one item. Any other job has its own item. The place follows from the id alone, so every reader and
 * writer of a job finds the same one.
 */
export interface JobPlace {
  readonly key: { readonly pk: string; readonly sk: string };
  /** The attribute holding the record on a shared item; absent: the item is the record. */
  readonly slot?: string;
}

export function jobPlace(jobId: string): JobPlace {
  const paid = PAID_JOB_ID.exec(jobId);
  if (paid === null) return { key: jobKey(jobId) };
  return { key: { pk: requestPk(paid[1] ?? ""), sk: PAID_JOBS_SK }, slot: `j${paid[2] ?? ""}` };
}

/** The distinct items holding these jobs (one per paid request, one per other job). */
export function jobItemKeys(jobIds: readonly string[]): { readonly pk: string; readonly sk: string }[] {
  const keys = new Map<string, { readonly pk: string; readonly sk: string }>();
  for (const jobId of jobIds) {
    const { key } = jobPlace(jobId);
    keys.set(`${key.pk}\n${key.sk}`, key);
  }
  return [...keys.values()];
}

/** Job records are kept this long after their deadline (DynamoDB TTL in the cloud, filtered on read everywhere). */
export const DEFAULT_JOB_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * The stored form of a job at `place`, before parsing: the item itself, or its slot. Each carries its own
 * `expireAt` (seconds), so a slot left by an earlier request of the same id (an Idempotency-Key reused after its
 * request expired, before TTL swept the item) reads as absent like an expired item.
 */
export function storedJob(item: Item | undefined, place: JobPlace): Item | undefined {
  if (item === undefined) return undefined;
  if (place.slot === undefined) return item.sk === JOB_SK ? item : undefined;
  const value = item[place.slot];
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Item) : undefined;
}

export type ParsedJob = { readonly job: JobRecord } | { readonly absent: true } | { readonly corrupt: string[] };

/** A stored job -> its record: expired reads as absent; one that does not parse, or is another job's, as corrupt. */
export function parseStoredJob(stored: Item | undefined, jobId: string, nowMs: number): ParsedJob {
  if (stored === undefined) return { absent: true };
  const expireAt = stored.expireAt;
  if (typeof expireAt === "number" && expireAt * 1000 < nowMs) return { absent: true };
  const parsed = JobRecord.safeParse(stored);
  if (!parsed.success) return { corrupt: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.code}`) };
  return parsed.data.jobId === jobId ? { job: parsed.data } : { corrupt: ["jobId"] };
}

/**
 * The records of `jobIds` among `items` (a read of `jobItemKeys(jobIds)`), in the order asked, each once; missing,
 * expired and corrupt ones are left out (`onCorrupt` is told of the last).
 */
export function jobsAmong(
  items: readonly Item[],
  jobIds: readonly string[],
  nowMs: number,
  onCorrupt?: (pk: unknown, issues: string[]) => void,
): JobRecord[] {
  const byKey = new Map(items.map((item) => [`${String(item.pk)}\n${String(item.sk)}`, item]));
  return [...new Set(jobIds)].flatMap((jobId) => {
    const place = jobPlace(jobId);
    const item = byKey.get(`${place.key.pk}\n${place.key.sk}`);
    const parsed = parseStoredJob(storedJob(item, place), jobId, nowMs);
    if ("job" in parsed) return [parsed.job];
    if ("corrupt" in parsed) onCorrupt?.(item?.pk, parsed.corrupt);
    return [];
  });
}
