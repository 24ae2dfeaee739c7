import { randomUUID } from "node:crypto";
import type { JobQueue, ReceivedMessage, ReceiveOptions } from "../../core/ports/queue.ts";
import { clampVisibility, DEAD_LETTER_ATTRIBUTES, type QueueMessage, truncateReason } from "./message.ts";
import { MinHeap } from "./min-heap.ts";

export interface MemoryJobQueueOptions {
  /** Default visibility of a delivery when `receive` gives none. Default 30 s (as JOBS_QUEUE). */
  readonly visibilityTimeoutSeconds?: number;
  /** Where messages go after `maxReceiveCount` deliveries, and where `deadLetter` sends them. */
  readonly deadLetter?: { readonly queue: MemoryJobQueue; readonly maxReceiveCount: number };
}

/** Same name as SQS's error for a receipt whose delivery is over (deleted, or visibility ran out). */
export class MessageNotInflightError extends Error {
  override readonly name = "MessageNotInflight";
}

interface Stored {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly sentAt: number;
  receiveCount: number;
  /** Bumped on every state change, so queue and heap entries of an older state are recognised as stale. */
  version: number;
  receipt: string | undefined;
}

/**
 * Message ids: a random prefix per process and a counter, unique as SQS's. node's randomUUID returns its id as a
 * chain of ~36 concatenated pieces, which every retained message kept alive (~700 bytes per id).
 */
const ID_PREFIX = randomUUID();
let idCounter = 0;
const nextMessageId = () => `${ID_PREFIX}-${(idCounter++).toString(16)}`;

/** Shared by every message sent without attributes (frozen: it is handed to each receiver). */
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

interface Entry {
  readonly id: string;
  readonly version: number;
}

/**
 * In-memory JobQueue with the SQS semantics the system relies on: visibility timeout, receive counts,
 * redrive to a DLQ after maxReceiveCount, delay, and a long poll that returns as soon as a message is available.
 * For unit tests and benchmarks; everything is O(log n) per message so large benchmarks stay honest.
 */
export class MemoryJobQueue implements JobQueue {
  private readonly defaultVisibilityMs: number;
  private readonly deadLetterTarget: MemoryJobQueueOptions["deadLetter"];
  private readonly messages = new Map<string, Stored>();
  private readonly receipts = new Map<string, string>();
  /**
   * Visible messages in order, with the version each had when shown (an entry whose message has moved on since is
   * stale and skipped). Two parallel arrays rather than one {id, version} object per entry: every message a
   * benchmark sends stays queued, and each object more is one more for the garbage collector to copy and mark.
   */
  private visible: Stored[] = [];
  private visibleVersions: number[] = [];
  private visibleHead = 0;
  /** In-flight and delayed messages, by the time they become visible. */
  private readonly hidden = new MinHeap<Entry & { readonly at: number }>((a, b) => a.at - b.at);
  private readonly waiters = new Set<() => void>();

  constructor(options: MemoryJobQueueOptions = {}) {
    this.defaultVisibilityMs = (options.visibilityTimeoutSeconds ?? 30) * 1000;
    this.deadLetterTarget = options.deadLetter;
  }

  async send(body: string, options?: { readonly delaySeconds?: number }): Promise<void> {
    this.accept(body, NO_ATTRIBUTES, Date.now(), nextMessageId(), 0, (options?.delaySeconds ?? 0) * 1000);
  }

  async sendMany(bodies: readonly string[]): Promise<void> {
    const now = Date.now();
    for (const body of bodies) this.accept(body, NO_ATTRIBUTES, now, nextMessageId(), 0, 0);
  }

  /** Resolves with [] when `signal` aborts, like SqsJobQueue. */
  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    const max = Math.min(10, Math.max(1, Math.floor(options.max)));
    const visibilityMs =
      options.visibilitySeconds !== undefined
        ? clampVisibility(options.visibilitySeconds) * 1000
        : this.defaultVisibilityMs;
    const deadline = Date.now() + Math.min(20, Math.max(0, options.waitSeconds)) * 1000;
    for (;;) {
      if (options.signal?.aborted) return [];
      const taken = this.take(max, visibilityMs);
      const remaining = deadline - Date.now();
      if (taken.length > 0 || remaining <= 0) return taken;
      await this.waitForChange(remaining, options.signal);
    }
  }

  async extendVisibility(receipt: string, seconds: number): Promise<void> {
    this.promoteDue(Date.now());
    const message = this.inflight(receipt);
    this.hide(message, clampVisibility(seconds) * 1000);
  }

  /** A receipt of a finished delivery is ignored (SQS may or may not delete then; callers must not rely on it). */
  async delete(receipt: string): Promise<void> {
    this.promoteDue(Date.now());
    const id = this.receipts.get(receipt);
    if (id === undefined) return;
    this.receipts.delete(receipt);
    this.messages.delete(id);
  }

  async deadLetter(message: ReceivedMessage, reason: string): Promise<void> {
    const target = this.deadLetterTarget;
    if (target === undefined) throw new Error("this queue has no dead-letter queue configured");
    target.queue.accept(
      message.body,
      {
        [DEAD_LETTER_ATTRIBUTES.reason]: truncateReason(reason) || "-",
        [DEAD_LETTER_ATTRIBUTES.receiveCount]: String(message.receiveCount),
        [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: message.messageId,
      },
      Date.now(),
      nextMessageId(),
      0,
      0,
    );
    await this.delete(message.receipt);
  }

  async depth(): Promise<{ readonly visible: number; readonly inFlight: number }> {
    this.promoteDue(Date.now());
    let inFlight = 0;
    for (const message of this.messages.values()) if (message.receipt !== undefined) inFlight++;
    let visible = 0;
    for (let index = this.visibleHead; index < this.visible.length; index++) {
      if (this.isCurrent(index)) visible++;
    }
    return { visible, inFlight };
  }

  private accept(
    body: string,
    attributes: Readonly<Record<string, string>>,
    sentAt: number,
    id: string,
    receiveCount: number,
    delayMs: number,
  ): void {
    const message: Stored = { id, body, attributes, sentAt, receiveCount, version: 0, receipt: undefined };
    this.messages.set(id, message);
    if (delayMs > 0) this.hide(message, delayMs);
    else this.show(message);
  }

  private take(max: number, visibilityMs: number): QueueMessage[] {
    const now = Date.now();
    this.promoteDue(now);
    const taken: QueueMessage[] = [];
    // A zero visibility makes a delivery visible at once; shown after the loop so one receive cannot repeat it.
    const showAfter: Stored[] = [];
    while (taken.length < max && this.visibleHead < this.visible.length) {
      const index = this.visibleHead++;
      const message = this.visible[index];
      if (message === undefined || !this.isCurrent(index)) continue;
      const target = this.deadLetterTarget;
      if (target !== undefined && message.receiveCount >= target.maxReceiveCount) {
        // SQS redrives on the receive that would exceed maxReceiveCount, keeping id, body and count.
        this.messages.delete(message.id);
        target.queue.accept(message.body, message.attributes, message.sentAt, message.id, message.receiveCount, 0);
        continue;
      }
      message.receiveCount++;
      message.receipt = randomUUID();
      this.receipts.set(message.receipt, message.id);
      if (visibilityMs > 0) this.hide(message, visibilityMs);
      else showAfter.push(message);
      taken.push({
        messageId: message.id,
        receipt: message.receipt,
        body: message.body,
        receiveCount: message.receiveCount,
        sentAt: message.sentAt,
        attributes: message.attributes,
      });
    }
    for (const message of showAfter) this.show(message);
    this.compactVisible();
    return taken;
  }

  private inflight(receipt: string): Stored {
    const id = this.receipts.get(receipt);
    const message = id === undefined ? undefined : this.messages.get(id);
    if (message === undefined) throw new MessageNotInflightError("the message of this receipt is not in flight");
    return message;
  }

  private hide(message: Stored, ms: number): void {
    if (ms <= 0) {
      this.show(message);
      return;
    }
    message.version++;
    this.hidden.push({ id: message.id, version: message.version, at: Date.now() + ms });
    this.notify();
  }

  private show(message: Stored): void {
    if (message.receipt !== undefined) this.receipts.delete(message.receipt);
    message.receipt = undefined;
    message.version++;
    this.visible.push(message);
    this.visibleVersions.push(message.version);
    this.notify();
  }

  private promoteDue(now: number): void {
    for (let top = this.hidden.peek(); top !== undefined && top.at <= now; top = this.hidden.peek()) {
      this.hidden.pop();
      const message = this.messages.get(top.id);
      if (message !== undefined && message.version === top.version) this.show(message);
    }
  }

  /** The message of this visible entry is still stored and has not changed state since it was shown. */
  private isCurrent(index: number): boolean {
    const message = this.visible[index];
    return (
      message !== undefined &&
      this.messages.get(message.id) === message &&
      message.version === this.visibleVersions[index]
    );
  }

  private compactVisible(): void {
    if (this.visibleHead > 1024 && this.visibleHead * 2 > this.visible.length) {
      this.visible = this.visible.slice(this.visibleHead);
      this.visibleVersions = this.visibleVersions.slice(this.visibleHead);
      this.visibleHead = 0;
    }
  }

  /** Waits until a send or a visibility change, the next hidden message is due, `ms` pass, or `signal` aborts. */
  private waitForChange(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const nextDue = this.hidden.peek();
    const wait = nextDue === undefined ? ms : Math.min(ms, Math.max(1, nextDue.at - Date.now()));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private notify(): void {
    if (this.waiters.size === 0) return;
    for (const waiter of [...this.waiters]) waiter();
  }
}
