/**
 * Reads asked for within the same turn of the event loop, answered by one call: the messages of one receive are
 * handled together, so their records cost one batched read instead of one each (issue 17). `read` gets the distinct
 * keys and answers what it found; a key it leaves out reads as null. A failed read rejects every waiter of its turn.
 * Nothing is cached: each turn reads anew.
 */
export class TurnBatch<T> {
  private waiting = new Map<string, { resolve: (value: T | null) => void; reject: (error: unknown) => void }[]>();

  constructor(private readonly read: (keys: string[]) => Promise<Map<string, T>>) {}

  get(key: string): Promise<T | null> {
    if (this.waiting.size === 0) setImmediate(() => void this.flush());
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(key) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(key, list);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    try {
      const found = await this.read([...batch.keys()]);
      for (const [key, list] of batch) for (const w of list) w.resolve(found.get(key) ?? null);
    } catch (error) {
      for (const list of batch.values()) for (const w of list) w.reject(error);
    }
  }
}
