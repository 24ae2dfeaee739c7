/** Key layout of job records in the `jobs` table (generic single-table keys, see infra/definitions.ts). */
export const JOB_SK = "JOB";

export function jobPk(jobId: string): string {
  return `JOB#${jobId}`;
}

export function jobKey(jobId: string): { readonly pk: string; readonly sk: string } {
  return { pk: jobPk(jobId), sk: JOB_SK };
}

/** Job records are kept this long after their deadline (DynamoDB TTL in the cloud, filtered on read everywhere). */
export const DEFAULT_JOB_RETENTION_SECONDS = 7 * 24 * 3600;
