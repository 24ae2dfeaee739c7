import { type Clock, systemClock } from "./clock.ts";
import { BatchConfig, type BatchConfigInput } from "./config.ts";
import { BatcherClosedError, BatchOutputMismatchError, ItemExpiredError, QueueFullError } from "./errors.ts";

/** Runs one batch in one inference call; output i answers input i. */
export type BatchRunner<I, O> = (inputs: readonly I[]) => Promise<readonly O[]>;

export interface BatchedResult<O> {
  readonly output: O;
  /** Size of the batch this item ran in. */
  readonly batchSize: number;
  /** Time the item waited in the queue before its batch started (ms). */
  readonly queueMs: number;
  /** Duration of the batch's inference call (ms). */
  readonly runMs: number;
}

export interface SubmitOptions {
  /** Clock time after which the item is rejected with ItemExpiredError instead of run. */
  readonly expiresAt?: number;
}

/** What each finished batch reports, for metrics. */
export interface BatchReport {
  readonly size: number;
  readonly runMs: number;
  readonly ok: boolean;
}

interface Pending<I, O> {
  readonly input: I;
  readonly enqueuedAt: number;
  readonly expiresAt: number;
  readonly resolve: (result: BatchedResult<O>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A dynamic batcher modelled on Triton's: items queue up; a batch starts at once when the queue holds a preferred
 * batch size (the largest one that fits is taken) or the model's max batch size; otherwise it starts when the oldest
 * item has waited `maxQueueDelayMs`, with whatever is queued (up to max). One runner call per batch; a failed call
 * fails only that batch's items. Pure logic: time comes from the injected clock.
 */
export class DynamicBatcher<I, O> {
  private readonly config: BatchConfig;
  private readonly preferred: number[];
  private readonly queue: Pending<I, O>[] = [];
  private running = 0;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private expedited = false;
  /** No waiting item expires before this (a lower bound: the queue is scanned only once it is reached). */
  private expiryBound = Number.POSITIVE_INFINITY;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly runner: BatchRunner<I, O>,
    config: BatchConfigInput = {},
    private readonly clock: Clock = systemClock,
    private readonly onBatch: (report: BatchReport) => void = () => {},
  ) {
    this.config = BatchConfig.parse(config);
    this.preferred = [...new Set(this.config.preferredBatchSizes)].sort((a, b) => b - a);
  }

  get pending(): number {
    return this.queue.length;
  }

  get inFlightBatches(): number {
    return this.running;
  }

  submit(input: I, options: SubmitOptions = {}): Promise<BatchedResult<O>> {
    if (this.closed) return Promise.reject(new BatcherClosedError());
    if (this.queue.length >= this.config.maxQueueSize)
      return Promise.reject(new QueueFullError(this.config.maxQueueSize));
    const expiresAt = options.expiresAt ?? Number.POSITIVE_INFINITY;
    this.expiryBound = Math.min(this.expiryBound, expiresAt);
    return new Promise((resolve, reject) => {
      this.queue.push({ input, enqueuedAt: this.clock.now(), expiresAt, resolve, reject });
      // A zero delay means the end of the current turn of the event loop (the clock's zero timer), not this very
      // call: the items submitted together (one receive's messages) start as one batch, and none waits on a timer.
      if (this.config.maxQueueDelayMs === 0 && this.queue.length < this.config.maxBatchSize) this.armTimer();
      else this.pump();
    });
  }

  /** From now on, batches start without waiting for the delay (a stopping worker wants its jobs done, not fuller batches). */
  expedite(): void {
    this.expedited = true;
    this.pump();
  }

  /** Stops accepting items, runs what is queued without waiting for the delay, and resolves when all batches are done. */
  close(): Promise<void> {
    this.closed = true;
    this.pump();
    return this.idle();
  }

  private idle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** How many items may start now; 0 = wait (for the delay, a preferred size, or a free slot). */
  private readySize(now: number): number {
    const queued = this.queue.length;
    const oldest = this.queue[0];
    if (oldest === undefined) return 0;
    const max = this.config.maxBatchSize;
    if (queued >= max) return max;
    if (this.closed || this.expedited) return queued;
    const preferred = this.preferred.find((size) => size <= queued);
    if (preferred !== undefined) return preferred;
    if (now - oldest.enqueuedAt >= this.config.maxQueueDelayMs) return queued;
    return 0;
  }

  private pump(): void {
    // Also while every slot is busy: an item whose deadline passed is told so now, not when a slot frees up.
    this.dropExpired(this.clock.now());
    while (this.running < this.config.maxConcurrentBatches) {
      const now = this.clock.now();
      this.dropExpired(now);
      const size = this.readySize(now);
      if (size === 0) break;
      this.start(this.queue.splice(0, size), now);
    }
    this.armTimer();
    this.notifyIdle();
  }

  private dropExpired(now: number): void {
    if (now < this.expiryBound) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i];
      if (item === undefined) continue;
      if (item.expiresAt <= now) {
        this.queue.splice(i, 1);
        item.reject(new ItemExpiredError());
      } else earliest = Math.min(earliest, item.expiresAt);
    }
    this.expiryBound = earliest;
  }

  /**
   * One timer, re-armed only when its moment changes: for when the oldest item's delay runs out, or, while every
   * slot is busy (the end of a batch pumps anyway), for the earliest deadline of the items waiting, so a slow or
   * stuck batch cannot keep them past it.
   */
  private armTimer(): void {
    const oldest = this.queue[0];
    const at =
      oldest === undefined
        ? Number.POSITIVE_INFINITY
        : this.running < this.config.maxConcurrentBatches
          ? oldest.enqueuedAt + this.config.maxQueueDelayMs
          : this.expiryBound;
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === Number.POSITIVE_INFINITY) return;
    this.timer = this.clock.setTimer(
      () => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private start(batch: Pending<I, O>[], startedAt: number): void {
    this.running++;
    const inputs = batch.map((item) => item.input);
    let call: Promise<readonly O[]>;
    try {
      call = this.runner(inputs);
    } catch (error) {
      call = Promise.reject(error);
    }
    call
      .then((outputs) => {
        const runMs = this.clock.now() - startedAt;
        if (outputs.length !== batch.length) throw new BatchOutputMismatchError(batch.length, outputs.length);
        this.report({ size: batch.length, runMs, ok: true });
        batch.forEach((item, i) => {
          item.resolve({
            output: outputs[i] as O,
            batchSize: batch.length,
            queueMs: startedAt - item.enqueuedAt,
            runMs,
          });
        });
      })
      .catch((error: unknown) => {
        this.report({ size: batch.length, runMs: this.clock.now() - startedAt, ok: false });
        for (const item of batch) item.reject(error);
      })
      .finally(() => {
        this.running--;
        this.pump();
      });
  }

  /** A metrics callback must never break result routing. */
  private report(report: BatchReport): void {
    try {
      this.onBatch(report);
    } catch {
      // ignored on purpose
    }
  }

  private notifyIdle(): void {
    if (this.queue.length > 0 || this.running > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
