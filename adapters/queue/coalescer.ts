/**
 * The window the market's queues gather deletes and single sends in: the jobs of one worker batch, the notices of
 * one settler receive, finish within about a millisecond of each other.
 */
export const SQS_COALESCE_MS = 2;

/**
 * The window the market's queues gather deletes in. A delete is on nobody's path: the job's result (or the
 * notice's settlement) is durable before it, and a message whose delete is late or lost only comes back after its
 * visibility timeout as a duplicate that is skipped. So a delete waits for up to ten company, or this long:
 * under load that halves the delete requests, and at one query at a time it folds ~5 queries' deletes into one
 * (issue 17, bench/query-calls.ts).
 */
export const SQS_DELETE_WINDOW_MS = 100;

/**
 * Collects single calls that arrive within `windowMs` (or until `max` are waiting) and runs them as one batch:
 * each caller still awaits its own outcome. Lets code that handles one message at a time (a worker finishing the
 * jobs of one model batch, the settler finishing a receive's notices) pay one SQS request per batch instead of
 * one per message. While a batch is in flight, a window's items wait for it to return (or until `max` are waiting)
 * and go together then (group commit): under load a batch holds what arrived during the last request's round trip,
 * so the requests per item fall as the load rises (issue 17), while an idle coalescer still holds an item no longer
 * than the window.
 */
export class Coalescer<T> {
  private waiting: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Ends the pending window early (the window's timer cleared), when one is pending. */
  private cancelWindow: (() => void) | undefined;
  private inFlight = 0;
  /** The window ended while a batch was in flight: flush when it returns. */
  private due = false;

  constructor(
    /** Runs one batch; returns, per item (same order), undefined for done or the error of that item. */
    private readonly run: (items: readonly T[]) => Promise<readonly (unknown | undefined)[]>,
    private readonly windowMs: number,
    /** Items of one batch at most; `fits(batch, item)` may end a batch earlier (e.g. a byte limit). */
    private readonly max: number,
    private readonly fits: (batch: readonly T[], item: T) => boolean = () => true,
    /**
     * An item equal to one still waiting (not yet in a batch) joins it instead of being added again: for
     * idempotent items such as settle notices, where the k jobs of one query finishing together need one.
     */
    private readonly dedupe = false,
  ) {}

  add(item: T): Promise<void> {
    if (this.dedupe) {
      const same = this.waiting.find((w) => w.item === item);
      if (same) {
        return new Promise<void>((resolve, reject) => {
          const [done, failed] = [same.resolve, same.reject];
          same.resolve = () => {
            done();
            resolve();
          };
          same.reject = (error) => {
            failed(error);
            reject(error);
          };
        });
      }
    }
    if (
      this.waiting.length > 0 &&
      !this.fits(
        this.waiting.map((w) => w.item),
        item,
      )
    )
      this.flush();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.max) this.flush();
      else this.cancelWindow ??= this.openWindow();
    });
  }

  /**
   * A zero window is the current turn of the event loop: the items added together (the k jobs of one query) and,
   * while a batch is in flight, what arrives until it returns; an idle coalescer then adds no delay.
   */
  private openWindow(): () => void {
    if (this.windowMs > 0) {
      const timer = setTimeout(() => this.windowEnded(), this.windowMs);
      return () => clearTimeout(timer);
    }
    const immediate = setImmediate(() => this.windowEnded());
    return () => clearImmediate(immediate);
  }

  private windowEnded(): void {
    this.cancelWindow = undefined;
    if (this.inFlight > 0) this.due = true;
    else this.flush();
  }

  private flush(): void {
    this.cancelWindow?.();
    this.cancelWindow = undefined;
    this.due = false;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    this.inFlight++;
    const done = () => {
      this.inFlight--;
      if (this.due && this.inFlight === 0) this.flush();
    };
    this.run(batch.map((w) => w.item))
      .finally(done)
      .then(
        (errors) =>
          batch.forEach((w, i) => {
            const error = errors[i];
            if (error === undefined) w.resolve();
            else w.reject(error);
          }),
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      );
  }
}
