import { z } from "zod";

/** Each batch setting's bounds (defaults apart): shared by a whole config and by the overrides of some experts. */
const fields = {
  maxBatchSize: z.number().int().min(1).max(4096),
  preferredBatchSizes: z.array(z.number().int().min(1).max(4096)).max(16),
  maxQueueDelayMs: z.number().min(0).max(60_000),
  maxQueueSize: z.number().int().min(1).max(1_000_000),
  maxConcurrentBatches: z.number().int().min(1).max(64),
};

const preferredFit = {
  check: (c: { maxBatchSize: number; preferredBatchSizes: readonly number[] }) =>
    c.preferredBatchSizes.every((size) => size <= c.maxBatchSize),
  message: "every preferred batch size must be <= maxBatchSize",
  path: ["preferredBatchSizes"],
};

/**
 * Settings of one expert's dynamic batcher, after Triton's `dynamic_batching` block:
 * `preferred_batch_size` -> preferredBatchSizes, `max_queue_delay_microseconds` -> maxQueueDelayMs (ms, fractions allowed),
 * model `max_batch_size` -> maxBatchSize, `default_queue_policy.max_queue_size` -> maxQueueSize (further items are
 * rejected at once). `maxConcurrentBatches` is how many batches of one model may run at the same time (1 = the device
 * runs them one after the other, which is what a single GPU or a CPU session with intra-op threads does best).
 */
export const BatchConfig = z
  .object({
    maxBatchSize: fields.maxBatchSize.default(32),
    preferredBatchSizes: fields.preferredBatchSizes.default([]),
    maxQueueDelayMs: fields.maxQueueDelayMs.default(2),
    maxQueueSize: fields.maxQueueSize.default(1024),
    maxConcurrentBatches: fields.maxConcurrentBatches.default(1),
  })
  .refine(preferredFit.check, { message: preferredFit.message, path: preferredFit.path });
export type BatchConfig = z.infer<typeof BatchConfig>;
export type BatchConfigInput = z.input<typeof BatchConfig>;

/**
 * Some of the batch settings, each replacing the one beneath it (a rule's over the worker's, the worker's over its
 * defaults). Unknown names are refused: a misspelt setting would otherwise be ignored without a word.
 */
export const BatchOverride = z.object(fields).partial().strict();
export type BatchOverride = z.infer<typeof BatchOverride>;

/**
 * What a worker batches with unless told otherwise: no delay (a batch starts at the end of the event loop's turn
 * with the jobs that came together, and what comes while the model runs forms the next one).
 */
export const WORKER_BATCH_DEFAULTS: BatchConfig = {
  maxBatchSize: 32,
  preferredBatchSizes: [],
  maxQueueDelayMs: 0,
  maxQueueSize: 1024,
  maxConcurrentBatches: 1,
};

/** `override` over `base`, checked as a whole (a preferred size may not exceed the resulting maxBatchSize). */
export function withOverride(base: BatchConfig, override: BatchOverride): z.ZodSafeParseResult<BatchConfig> {
  return BatchConfig.safeParse({ ...base, ...override });
}
