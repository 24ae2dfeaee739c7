/**
 * Group commit for one hot item: while a write to a key is in flight from this process, the entries that arrive
 * for that key wait and then go together in one write (up to `max`, never two with the same id in one write).
 *
 * Why: concurrent writes to one DynamoDB item are applied one at a time anyway, each billed by the whole item's
 * size. A busy account's item (several KB) written twice per query capped it at a few hundred writes a second on
 * its partition (1,000 write units a second), and under 16 concurrent queries about two thirds of the account's
 * holds and settles started while another was in flight. A lone entry is written at once (after one microtask, so
 * that entries submitted in the same turn go together): nothing waits for a timer. A write still in flight after
 * `stallMs` (a slow request, SDK retries) no longer holds the others back: the next group starts beside it.
 */
export type GroupWrite<E, R> = (key: string, entries: readonly E[]) => Promise<readonly PromiseSettledResult<R>[]>;

interface Waiting<E, R> {
  readonly entry: E;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

interface KeyState<E, R> {
  readonly queue: Waiting<E, R>[];
  /** Writes in flight that have not stalled yet: while there is one, the queue waits for it. */
  active: number;
}

export interface WriteGroupsOptions {
  /** Entries in one write at most. */
  readonly max: number;
  /** A write in flight this long stops holding the queue back. */
  readonly stallMs: number;
}

export class WriteGroups<E, R> {
  private readonly keys = new Map<string, KeyState<E, R>>();

  /**
   * @param write one write for all its entries: each entry's outcome in the entries' order (an entry can fail alone,
   *   when the write fell back to one write per entry), or a throw that fails them all
   * @param idOf entries with the same id never share a write (their writes would name the same path twice)
   */
  constructor(
    private readonly write: GroupWrite<E, R>,
    private readonly idOf: (entry: E) => string,
    private readonly options: WriteGroupsOptions,
  ) {
    const { max, stallMs } = options;
    if (!Number.isInteger(max) || max < 1) throw new Error(`a write group needs room for one entry, not ${max}`);
    if (!(stallMs > 0)) throw new Error(`a write group's stall limit must be positive, not ${stallMs}`);
  }

  submit(key: string, entry: E): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const state = this.keys.get(key);
      if (state) {
        state.queue.push({ entry, resolve, reject });
        return;
      }
      this.keys.set(key, { queue: [{ entry, resolve, reject }], active: 0 });
      // One microtask: the entries submitted in this turn go in the first write.
      queueMicrotask(() => this.next(key));
    });
  }

  /** Keys with entries waiting or a write in flight that has not stalled (tests). */
  get busyKeys(): number {
    return this.keys.size;
  }

  /** Starts the key's next group unless a write that has not stalled is in flight; forgets an idle key. */
  private next(key: string): void {
    const state = this.keys.get(key);
    if (!state || state.active > 0) return;
    const group = this.take(state.queue);
    if (group.length === 0) {
      this.keys.delete(key);
      return;
    }
    state.active++;
    let holding = true;
    const release = () => {
      if (!holding) return;
      holding = false;
      state.active--;
      // A stalled write's key may be forgotten and begun afresh meanwhile: only this state's queue is this one's.
      if (this.keys.get(key) === state) this.next(key);
    };
    const stalled = setTimeout(release, this.options.stallMs);
    stalled.unref?.();
    new Promise<readonly PromiseSettledResult<R>[]>((resolve) =>
      resolve(
        this.write(
          key,
          group.map((w) => w.entry),
        ),
      ),
    )
      .then(
        (results) => {
          // A writer's malformed answer fails the group rather than leave its callers waiting.
          try {
            if (results.length !== group.length) {
              throw new Error(`a group write gave ${results.length} outcomes for ${group.length} entries`);
            }
            const outcomes = results.map((result) => {
              if (result?.status !== "fulfilled" && result?.status !== "rejected") {
                throw new Error("a group write gave an outcome that is neither fulfilled nor rejected");
              }
              return result;
            });
            group.forEach((w, i) => {
              const result = outcomes[i] as PromiseSettledResult<R>;
              if (result.status === "fulfilled") w.resolve(result.value);
              else w.reject(result.reason);
            });
          } catch (error) {
            for (const w of group) w.reject(error);
          }
        },
        (error: unknown) => {
          for (const w of group) w.reject(error);
        },
      )
      .finally(() => {
        clearTimeout(stalled);
        release();
      });
  }

  /** Removes and returns the next group: oldest first, an id already in the group waits for the next one. */
  private take(queue: Waiting<E, R>[]): Waiting<E, R>[] {
    const group: Waiting<E, R>[] = [];
    const ids = new Set<string>();
    const rest: Waiting<E, R>[] = [];
    for (const w of queue) {
      const id = this.idOf(w.entry);
      if (group.length < this.options.max && !ids.has(id)) {
        ids.add(id);
        group.push(w);
      } else {
        rest.push(w);
      }
    }
    queue.splice(0, queue.length, ...rest);
    return group;
  }
}
