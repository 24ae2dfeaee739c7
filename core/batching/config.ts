import { z } from "zod";

/**
 * Settings of one expert's dynamic batcher, after Triton's `dynamic_batching` block:
 * `preferred_batch_size` -> preferredBatchSizes, `max_queue_delay_microseconds` -> maxQueueDelayMs (ms, fractions allowed),
 * model `max_batch_size` -> maxBatchSize, `default_queue_policy.max_queue_size` -> maxQueueSize (further items are
 * rejected at once). `maxConcurrentBatches` is how many batches of one model may run at the same time (1 = the device
 * runs them one after the other, which is what a single GPU or a CPU session with intra-op threads does best).
 */
export const BatchConfig = z
  .object({
    maxBatchSize: z.number().int().min(1).max(4096).default(32),
    preferredBatchSizes: z.array(z.number().int().min(1).max(4096)).max(16).default([]),
    maxQueueDelayMs: z.number().min(0).max(60_000).default(2),
    maxQueueSize: z.number().int().min(1).max(1_000_000).default(1024),
    maxConcurrentBatches: z.number().int().min(1).max(64).default(1),
  })
  .refine((c) => c.preferredBatchSizes.every((size) => size <= c.maxBatchSize), {
    message: "every preferred batch size must be <= maxBatchSize",
    path: ["preferredBatchSizes"],
  });
export type BatchConfig = z.infer<typeof BatchConfig>;
export type BatchConfigInput = z.input<typeof BatchConfig>;
