/**
 * The window the market's queues gather deletes and single sends in: the jobs of one worker batch, the notices of
 * one settler receive, finish within about a millisecond of each other.
 */
export const SQS_COALESCE_MS = 2;

/**
 * Collects single calls that arrive within `windowMs` (or until `max` are waiting) and runs them as one batch:
 * each caller still awaits its own outcome. Lets code that handles one message at a time (a worker finishing the
 * jobs of one model batch, the settler finishing a receive's notices) pay one SQS request per batch instead of
 * one per message, without holding anyone longer than the window.
 */
export class Coalescer<T> {
  private waiting: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Runs one batch; returns, per item (same order), undefined for done or the error of that item. */
    private readonly run: (items: readonly T[]) => Promise<readonly (unknown | undefined)[]>,
    private readonly windowMs: number,
    /** Items of one batch at most; `fits(batch, item)` may end a batch earlier (e.g. a byte limit). */
    private readonly max: number,
    private readonly fits: (batch: readonly T[], item: T) => boolean = () => true,
  ) {}

  add(item: T): Promise<void> {
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
      else this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    this.run(batch.map((w) => w.item)).then(
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
