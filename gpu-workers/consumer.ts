import type { Logger } from "../adapters/log/logger.ts";
import type { JobQueue, ReceivedMessage } from "../core/ports/queue.ts";
import type { WorkerMetrics } from "./metrics.ts";

/*
 * Our own consumer on the JobQueue port rather than bbc/sqs-consumer (which STYLE practice 10 suggests):
 * sqs-consumer 15 needs Node >= 22 (we run Node 20), and it hands one receive batch at a time to the handler and
 * waits for it before polling again, whereas a GPU worker must keep many messages in flight across receives so the
 * per-expert batcher can fill a batch from several of them. The loop below keeps its other behaviours: long polling,
 * up to 10 per receive, a heartbeat that extends visibility while a job runs, and a graceful stop.
 */

export interface ConsumerOptions {
  readonly queue: JobQueue;
  readonly handle: (message: ReceivedMessage) => Promise<unknown>;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly pollers: number;
  readonly waitSeconds: number;
  readonly visibilitySeconds: number;
  readonly heartbeatSeconds: number;
  readonly maxJobMs: number;
}

interface InFlight {
  readonly message: ReceivedMessage;
  readonly since: number;
}

/** Receives while fewer than `concurrency` messages are in flight; `stop()` stops receiving and drains. */
export class Consumer {
  private readonly inFlight = new Map<string, InFlight>();
  private reserved = 0;
  private readonly abort = new AbortController();
  private stopping = false;
  private loops: Promise<void>[] = [];
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private slotWaiters: (() => void)[] = [];

  constructor(private readonly options: ConsumerOptions) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatSeconds * 1000);
    this.loops = Array.from({ length: this.options.pollers }, () => this.poll());
  }

  /**
   * Stops receiving at once, calls `beforeDrain` (e.g. to expedite batches), then waits up to `drainMs` for
   * in-flight messages; true when all finished.
   */
  async stop(drainMs: number, beforeDrain: () => void = () => {}): Promise<boolean> {
    this.stopping = true;
    this.abort.abort();
    this.wakeSlotWaiters();
    await Promise.all(this.loops);
    beforeDrain();
    const drained = await this.drain(drainMs);
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    return drained;
  }

  private async poll(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const free = this.options.concurrency - this.inFlight.size - this.reserved;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      const max = Math.min(10, free);
      this.reserved += max;
      let messages: ReceivedMessage[] = [];
      try {
        messages = await this.options.queue.receive({
          max,
          waitSeconds: this.options.waitSeconds,
          visibilitySeconds: this.options.visibilitySeconds,
          signal: this.abort.signal,
        });
        failures = 0;
      } catch (error) {
        failures++;
        this.options.metrics.inc("receiveErrors");
        this.options.logger.warn("receive failed; backing off", { error, failures });
        await this.sleep(Math.min(10_000, 100 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2));
      } finally {
        this.reserved -= max;
      }
      for (const message of messages) this.dispatch(message);
    }
  }

  private dispatch(message: ReceivedMessage): void {
    // Keyed by receipt: a message redelivered to this same worker is a separate delivery with its own handle.
    this.inFlight.set(message.receipt, { message, since: Date.now() });
    this.options
      .handle(message)
      .catch((error: unknown) => {
        // The handler decides every outcome itself; reaching here is a bug, and the message simply returns later.
        this.options.metrics.error("handler_crashed");
        this.options.logger.error("handler crashed", { messageId: message.messageId, error });
      })
      .finally(() => {
        this.inFlight.delete(message.receipt);
        this.wakeSlotWaiters();
      });
  }

  /** Extends the visibility of every running job, except those over maxJobMs (they are let go to another worker). */
  private async beat(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.inFlight.values()].map(async ({ message, since }) => {
        if (now - since > this.options.maxJobMs) return;
        try {
          await this.options.queue.extendVisibility(message.receipt, this.options.visibilitySeconds);
          this.options.metrics.inc("heartbeats");
        } catch {
          // Usually the job finished and its message was deleted in between: nothing to extend.
          if (this.inFlight.has(message.receipt)) this.options.metrics.inc("heartbeatErrors");
        }
      }),
    );
  }

  private drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        clearInterval(check);
        resolve(false);
      }, timeoutMs);
      const check = setInterval(() => {
        if (this.inFlight.size > 0) return;
        clearInterval(check);
        clearTimeout(timer);
        resolve(true);
      }, 20);
    });
  }

  private wakeSlotWaiters(): void {
    for (const wake of this.slotWaiters.splice(0)) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}
