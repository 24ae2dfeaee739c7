/**
 * The plain data both stacks build from: `infra/*.ts` (SST, the cloud) and `stacks/` (one machine).
 * Keeping names, keys, indexes and queue settings here is what stops local and cloud from drifting.
 * This file imports nothing but types, so SST's config and Node can both load it.
 */

export interface TableDefinition {
  /** Logical name; the physical name is `${prefix}${name}` (prefix = stage, e.g. `market-dev-`). */
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey: string;
  readonly globalIndexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry; DynamoDB TTL in the cloud, filtered on read everywhere. */
  readonly ttlAttribute?: string;
}

export interface IndexDefinition {
  readonly name: string;
  readonly hashKey: string;
  readonly rangeKey: string;
  /**
   * What DynamoDB copies into the index: every attribute (the default), or only the keys. Every write to an item
   * on an index is billed again for the index's copy, by the copy's size; a write that changes neither the index's
   * keys nor a projected attribute is not copied at all. So an index whose readers can fetch the items by key is
   * keys-only: its copy costs one unit when the item enters, and nothing on its later updates.
   */
  readonly projection?: "all" | "keys-only";
}

export interface QueueDefinition {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitSeconds: number;
  readonly retentionSeconds: number;
  /** Dead-letter queue this queue redrives to after `maxReceiveCount` deliveries. */
  readonly deadLetter?: { readonly name: string; readonly maxReceiveCount: number };
}

const generic = { hashKey: "pk", rangeKey: "sk" } as const;
const gsi1 = { name: "gsi1", hashKey: "gsi1pk", rangeKey: "gsi1sk" } as const;

/** API keys (by hash and by id), accounts, their ledger entries and holds. */
export const KEYS_TABLE: TableDefinition = { name: "keys", ...generic, globalIndexes: [gsi1] };
export const LEDGER_TABLE: TableDefinition = {
  name: "ledger",
  ...generic,
  globalIndexes: [gsi1],
  ttlAttribute: "expireAt",
};
/**
 * Requests (one per paid query or validation item) and their expert jobs. Its index (an account's requests, due
 * webhook deliveries) is keys-only: a request is written twice (created, then its result of ~3-4 KB), and with
 * every attribute projected the index copied it both times (~5 write units per query, issue 17). Its readers fetch
 * the items by key.
 */
export const JOBS_TABLE: TableDefinition = {
  name: "jobs",
  ...generic,
  globalIndexes: [{ ...gsi1, projection: "keys-only" }],
  ttlAttribute: "expireAt",
};
/** Per-epoch Shapley scores, EMA state, router parameters, weight submissions. */
export const SCORES_TABLE: TableDefinition = { name: "scores", ...generic, globalIndexes: [gsi1] };

export const TABLES: readonly TableDefinition[] = [KEYS_TABLE, LEDGER_TABLE, JOBS_TABLE, SCORES_TABLE];

export const JOBS_DLQ: QueueDefinition = {
  name: "jobs-dlq",
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 14 * 24 * 3600,
};

export const JOBS_QUEUE: QueueDefinition = {
  name: "jobs",
  // A worker heartbeats well before this, so a crashed worker's jobs return within ~30 s.
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 4 * 24 * 3600,
  deadLetter: { name: JOBS_DLQ.name, maxReceiveCount: 5 },
};

export const VALIDATION_DLQ: QueueDefinition = {
  name: "validation-dlq",
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 14 * 24 * 3600,
};

/**
 * The validator's jobs, apart from clients' paid jobs (issue 17): a worker takes paid jobs first and validation jobs
 * only within a bounded share of its slots (WorkerConfig.validationConcurrency), so an epoch's hundreds of jobs never
 * stand in front of a client's query, and still all get answered within the validator's answer timeout.
 */
export const VALIDATION_QUEUE: QueueDefinition = {
  name: "validation",
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 4 * 24 * 3600,
  deadLetter: { name: VALIDATION_DLQ.name, maxReceiveCount: 5 },
};

export const SETTLE_DLQ: QueueDefinition = {
  name: "settle-dlq",
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 14 * 24 * 3600,
};

/**
 * Notices a worker sends after each terminal write of a paid job (`{v:1, requestId, uids?, answers?, unstored?}`,
 * the answers its write stored, or all the query's answers in place of that write: core/jobs/settle-notice.ts); the
 * settler captures the request once its last job is in, whether or not the client ever polls. A notice that keeps
 * failing (the chain directory down) lands in the DLQ; the sweeper then settles the request before it would release
 * its hold (a failed settle stores the unstored answers it carried first: functions/api/flow/settle.ts).
 */
export const SETTLE_QUEUE: QueueDefinition = {
  name: "settle",
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 4 * 24 * 3600,
  deadLetter: { name: SETTLE_DLQ.name, maxReceiveCount: 5 },
};

export const QUEUES: readonly QueueDefinition[] = [
  JOBS_DLQ,
  JOBS_QUEUE,
  VALIDATION_DLQ,
  VALIDATION_QUEUE,
  SETTLE_DLQ,
  SETTLE_QUEUE,
];

export function physicalName(prefix: string, logical: string): string {
  return `${prefix}${logical}`;
}
