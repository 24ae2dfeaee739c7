/** The batcher's queue is full (Triton's max_queue_size): the caller should retry later or shed the request. */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
  constructor(readonly limit: number) {
    super(`batch queue full (${limit} pending)`);
  }
}

/** The batcher was closed before the item was accepted. */
export class BatcherClosedError extends Error {
  override readonly name = "BatcherClosedError";
  constructor() {
    super("batcher closed");
  }
}

/** The item's own deadline passed while it waited for a batch (Triton's per-request timeout with REJECT). */
export class ItemExpiredError extends Error {
  override readonly name = "ItemExpiredError";
  constructor() {
    super("deadline passed while waiting for a batch");
  }
}

/** The runner returned a different number of outputs than it got inputs: the whole batch is failed. */
export class BatchOutputMismatchError extends Error {
  override readonly name = "BatchOutputMismatchError";
  constructor(expected: number, got: number) {
    super(`runner returned ${got} outputs for ${expected} inputs`);
  }
}
