import {
  JOBS_DLQ,
  JOBS_QUEUE,
  type QueueDefinition,
  SETTLE_DLQ,
  SETTLE_QUEUE,
  VALIDATION_DLQ,
  VALIDATION_QUEUE,
} from "./definitions";
import { resourceName } from "./naming";

/**
 * The queues, from the same definitions `npm start` creates its emulated queues from (infra/definitions.ts): clients'
 * paid jobs for the GPU workers, the validator's jobs apart from them (workers take those after paid ones), settle notices for the settler (a worker's last answer of a query sends the request id; the
 * settler captures the charge), each with its dead-letter queue.
 */
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
export const validationDlq = deadLetterQueue("ValidationDlq", VALIDATION_DLQ);
export const validation = queueWithDlq("Validation", VALIDATION_QUEUE, validationDlq);
export const settleDlq = deadLetterQueue("SettleDlq", SETTLE_DLQ);
export const settle = queueWithDlq("Settle", SETTLE_QUEUE, settleDlq);

/** Where a failed validator run lands (its async-invoke failure destination); an alarm watches it. */
export const validatorFailures = new sst.aws.Queue("ValidatorFailures", {
  transform: { queue: { name: resourceName("validator-failures"), messageRetentionSeconds: 14 * 24 * 3600 } },
});
