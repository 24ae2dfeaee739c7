/**
 * Group commit for one hot item: from this process, at most one write per key is in flight, and the entries that
 * arrive meanwhile go together in the next write (up to `max`, never two with the same id in one write).
 *
 * Why: concurrent writes to one DynamoDB item are applied one at a time anyway, each billed by the whole item's
 * size. A busy account's item (several KB) written twice per query capped it at a few hundred writes a second on
 * its partition (1,000 write units a second), and under 16 concurrent queries about two thirds of the account's
 * holds and settles started while another was in flight. A lone entry is written at once (after one microtask, so
 * that entries submitted in the same turn go together): nothing waits for a timer.
 */
export type GroupWrite<E, R> = (key: string, entries: readonly E[]) => Promise<readonly PromiseSettledResult<R>[]>;

interface Waiting<E, R> {
  readonly entry: E;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

export class WriteGroups<E, R> {
  private readonly waiting = new Map<string, Waiting<E, R>[]>();

  /**
   * @param write one write for all its entries: each entry's outcome in the entries' order (an entry can fail alone,
   *   when the write fell back to one write per entry), or a throw that fails them all
   * @param idOf entries with the same id never share a write (their writes would name the same path twice)
   */
  constructor(
    private readonly write: GroupWrite<E, R>,
    private readonly idOf: (entry: E) => string,
    private readonly max: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`a write group needs room for one entry, not ${max}`);
  }

  submit(key: string, entry: E): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const queue = this.waiting.get(key);
      if (queue) {
        queue.push({ entry, resolve, reject });
        return;
      }
      this.waiting.set(key, [{ entry, resolve, reject }]);
      void this.drain(key);
    });
  }

  /** Keys with entries waiting or in flight (tests). */
  get busyKeys(): number {
    return this.waiting.size;
  }

  /** Writes the key's entries, group after group, until none waits; the key's queue lives as long as this runs. */
  private async drain(key: string): Promise<void> {
    await Promise.resolve();
    for (;;) {
      const queue = this.waiting.get(key);
      if (!queue || queue.length === 0) {
        this.waiting.delete(key);
        return;
      }
      const group = this.take(queue);
      try {
        const results = await this.write(
          key,
          group.map((w) => w.entry),
        );
        if (results.length !== group.length)
          throw new Error(`a group write gave ${results.length} outcomes for ${group.length}`);
        group.forEach((w, i) => {
          const result = results[i] as PromiseSettledResult<R>;
          if (result.status === "fulfilled") w.resolve(result.value);
          else w.reject(result.reason);
        });
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
  }

  /** Removes and returns the next group: oldest first, an id already in the group waits for the next one. */
  private take(queue: Waiting<E, R>[]): Waiting<E, R>[] {
    const group: Waiting<E, R>[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < queue.length && group.length < this.max; ) {
      const w = queue[i] as Waiting<E, R>;
      const id = this.idOf(w.entry);
      if (ids.has(id)) {
        i++;
        continue;
      }
      ids.add(id);
      group.push(w);
      queue.splice(i, 1);
    }
    return group;
  }
}
