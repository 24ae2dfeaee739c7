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

/**
 * One queue the consumer takes messages from, with its own cap on messages in flight. Lanes are independent: each
 * has its own pollers and its own slots, so one lane's backlog never delays another's messages (issue 17: clients'
 * paid jobs on one lane, the validator's jobs on a second lane capped to a small share, so an epoch's hundreds of
 * jobs never queue in front of a client's query, and still all get answered, since their slots are theirs alone).
 */
export interface ConsumerLane {
  /** For logs and metrics: "paid", "validation". */
  readonly name: string;
  readonly queue: JobQueue;
  /** Most messages of this lane being worked on at once (received, not yet acked). */
  readonly concurrency: number;
  /**
   * A higher cap while every other lane is idle (nothing in flight, its last receive empty): a lane of bounded
   * share still runs at full speed when no client is waiting, and falls back to `concurrency` as soon as one is.
   */
  readonly concurrencyWhenOthersIdle?: number;
  /** Receive loops of this lane (each asks for up to 10 messages). */
  readonly pollers: number;
}

export interface ConsumerOptions {
  readonly lanes: readonly ConsumerLane[];
  /** Decides every outcome of a message itself, acting on `queue`, the queue it came from. */
  readonly handle: (message: ReceivedMessage, queue: JobQueue) => Promise<unknown>;
  readonly metrics: WorkerMetrics;
  readonly logger: Logger;
  readonly waitSeconds: number;
  /**
   * After a receive that brought some messages but fewer than it asked for, a poller waits this long before its
   * next receive (0: never; a full receive is followed at once, since more are waiting), so that
   * under load a receive (and the delete after it) carries several queries' jobs instead of one each (issue 17).
   * With several pollers, an idle market's latency does not grow: a lone query is taken by a poller still
   * long-polling; with one (the workers' default, which lingers 0), a query that comes during the pause waits.
   */
  readonly receiveLingerMs?: number;
  readonly visibilitySeconds: number;
  readonly heartbeatSeconds: number;
  readonly maxJobMs: number;
}

interface InFlight {
  readonly message: ReceivedMessage;
  readonly queue: JobQueue;
  readonly since: number;
}

interface LaneState {
  readonly lane: ConsumerLane;
  inFlight: number;
  reserved: number;
  /** Whether this lane's last receive came back empty (true before its first). */
  drained: boolean;
}

/** Receives on each lane while fewer than its `concurrency` messages are in flight; `stop()` stops receiving and drains. */
export class Consumer {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly lanes: LaneState[];
  private readonly abort = new AbortController();
  private stopping = false;
  private loops: Promise<void>[] = [];
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private slotWaiters: (() => void)[] = [];

  constructor(private readonly options: ConsumerOptions) {
    this.lanes = options.lanes.map((lane) => ({ lane, inFlight: 0, reserved: 0, drained: true }));
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatSeconds * 1000);
    this.loops = this.lanes.flatMap((state) => Array.from({ length: state.lane.pollers }, () => this.poll(state)));
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

  private async poll(state: LaneState): Promise<void> {
    const { queue } = state.lane;
    let failures = 0;
    while (!this.stopping) {
      const free = this.capOf(state) - state.inFlight - state.reserved;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        continue;
      }
      const max = Math.min(10, free);
      state.reserved += max;
      let messages: ReceivedMessage[] = [];
      try {
        messages = await queue.receive({
          max,
          waitSeconds: this.options.waitSeconds,
          visibilitySeconds: this.options.visibilitySeconds,
          signal: this.abort.signal,
        });
        failures = 0;
      } catch (error) {
        failures++;
        this.options.metrics.inc("receiveErrors");
        this.options.logger.warn("receive failed; backing off", { lane: state.lane.name, error, failures });
        await this.sleep(Math.min(10_000, 100 * 2 ** Math.min(failures, 7)) * (0.5 + Math.random() / 2));
      } finally {
        state.reserved -= max;
      }
      const drained = messages.length === 0;
      if (drained !== state.drained) {
        state.drained = drained;
        // Another lane's cap may have changed with this one's idleness.
        this.wakeSlotWaiters();
      }
      for (const message of messages) this.dispatch(message, state);
      // One turn of the event loop before the next receive, so these messages' handlers reach their batchers first.
      // Each handler parses and checks its message before its first await; a queue that answers at once (a backlog,
      // the in-memory queue) would otherwise have every free slot's message parsed before any job got to a batch: a
      // burst's first VAD batch started ~100 ms late at 128 slots, ~25 ms at 32 (bench/worker.ts, issue 17).
      if (messages.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      // After a partial receive, one more: a batcher with no delay starts its batch at the end of the turn its job
      // came in (setImmediate, armed after the one above), and the next receive's SDK request (~0.5-1 ms of CPU to
      // build and sign) would otherwise go first. A lone query's batch starts ~1 ms sooner, its answer ~0.2 ms (the
      // model's thread runs while this one builds that request; bench/RESULTS.md, issue 17, twentieth session). Not
      // after a full receive: in a backlog the next receive's round trip should overlap the handlers' work.
      if (messages.length > 0 && messages.length < max) await new Promise<void>((resolve) => setImmediate(resolve));
      // A full receive means more are waiting: take them now. Only a partial one lingers to let the next fill up.
      const linger = this.options.receiveLingerMs ?? 0;
      if (messages.length > 0 && messages.length < max && linger > 0 && !this.stopping) await this.sleep(linger);
    }
  }

  private capOf(state: LaneState): number {
    const { concurrency, concurrencyWhenOthersIdle } = state.lane;
    if (concurrencyWhenOthersIdle === undefined) return concurrency;
    const othersIdle = this.lanes.every((other) => other === state || (other.inFlight === 0 && other.drained));
    return othersIdle ? Math.max(concurrency, concurrencyWhenOthersIdle) : concurrency;
  }

  private dispatch(message: ReceivedMessage, state: LaneState): void {
    const { queue } = state.lane;
    // Keyed by receipt: a message redelivered to this same worker is a separate delivery with its own handle.
    this.inFlight.set(message.receipt, { message, queue, since: Date.now() });
    state.inFlight++;
    this.options
      .handle(message, queue)
      .catch((error: unknown) => {
        // The handler decides every outcome itself; reaching here is a bug, and the message simply returns later.
        this.options.metrics.error("handler_crashed");
        this.options.logger.error("handler crashed", { messageId: message.messageId, error });
      })
      .finally(() => {
        this.inFlight.delete(message.receipt);
        state.inFlight--;
        this.wakeSlotWaiters();
      });
  }

  /** Extends the visibility of every running job, except those over maxJobMs (they are let go to another worker). */
  private async beat(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.inFlight.values()].map(async ({ message, queue, since }) => {
        if (now - since > this.options.maxJobMs) return;
        try {
          await queue.extendVisibility(message.receipt, this.options.visibilitySeconds);
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
      // The listener goes with the timer: a linger after every receive must not pile listeners on the signal.
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
