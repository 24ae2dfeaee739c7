import { JOBS_DLQ, JOBS_QUEUE } from "./definitions";
import { resourceName } from "./naming";

export const jobsDlq = new sst.aws.Queue("JobsDlq", {
  transform: { queue: { name: resourceName(JOBS_DLQ.name), messageRetentionSeconds: JOBS_DLQ.retentionSeconds } },
});

export const jobs = new sst.aws.Queue("Jobs", {
  visibilityTimeout: `${JOBS_QUEUE.visibilityTimeoutSeconds} seconds`,
  dlq: { queue: jobsDlq.arn, retry: JOBS_QUEUE.deadLetter?.maxReceiveCount ?? 5 },
  transform: {
    queue: {
      name: resourceName(JOBS_QUEUE.name),
      messageRetentionSeconds: JOBS_QUEUE.retentionSeconds,
      receiveWaitTimeSeconds: JOBS_QUEUE.receiveWaitSeconds,
    },
  },
});
