import { JOBS_DLQ, JOBS_QUEUE, type QueueDefinition } from "./definitions";
import { resourceName } from "./naming";

/**
 * The settle queue: a worker's last answer of a query sends the request id here and the settler Lambda captures the
 * charge. Its definition belongs in infra/definitions.ts beside JOBS_QUEUE (another branch adds it there as
 * `settle` / `settle-dlq`); it is spelled here with the same logical names until then.
 */
export const SETTLE_DLQ: QueueDefinition = {
  name: "settle-dlq",
  visibilityTimeoutSeconds: 30,
  receiveWaitSeconds: 20,
  retentionSeconds: 14 * 24 * 3600,
};
export const SETTLE_QUEUE: QueueDefinition = {
  name: "settle",
  // Longer than the settler's timeout (Lambda's SQS rule: visibility >= function timeout).
  visibilityTimeoutSeconds: 60,
  receiveWaitSeconds: 20,
  retentionSeconds: 4 * 24 * 3600,
  deadLetter: { name: "settle-dlq", maxReceiveCount: 5 },
};

function deadLetterQueue(id: string, def: QueueDefinition) {
  return new sst.aws.Queue(id, {
    transform: { queue: { name: resourceName(def.name), messageRetentionSeconds: def.retentionSeconds } },
  });
}

function queueWithDlq(id: string, def: QueueDefinition, dlq: sst.aws.Queue) {
  return new sst.aws.Queue(id, {
    visibilityTimeout: `${def.visibilityTimeoutSeconds} seconds`,
    dlq: { queue: dlq.arn, retry: def.deadLetter?.maxReceiveCount ?? 5 },
    transform: {
      queue: {
        name: resourceName(def.name),
        messageRetentionSeconds: def.retentionSeconds,
        receiveWaitTimeSeconds: def.receiveWaitSeconds,
      },
    },
  });
}

export const jobsDlq = deadLetterQueue("JobsDlq", JOBS_DLQ);
export const jobs = queueWithDlq("Jobs", JOBS_QUEUE, jobsDlq);
export const settleDlq = deadLetterQueue("SettleDlq", SETTLE_DLQ);
export const settle = queueWithDlq("Settle", SETTLE_QUEUE, settleDlq);

/** Where a failed validator run lands (its async-invoke failure destination); an alarm watches it. */
export const validatorFailures = new sst.aws.Queue("ValidatorFailures", {
  transform: { queue: { name: resourceName("validator-failures"), messageRetentionSeconds: 14 * 24 * 3600 } },
});
