/** Time source and timers, injected so batching logic can be tested with a manual clock. */
export interface Clock {
  /** Milliseconds, monotonic (only differences are used). */
  now(): number;
  /** `ms` <= 0: at the end of the current turn of the event loop (after what is already queued to run). */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  // setTimeout(fn, 0) waits at least a millisecond; setImmediate runs once this turn's I/O callbacks are done.
  setTimer: (fn, ms) => (ms <= 0 ? { immediate: setImmediate(fn) } : setTimeout(fn, ms)),
  clearTimer: (handle) => {
    if (handle !== null && typeof handle === "object" && "immediate" in handle)
      clearImmediate(handle.immediate as ReturnType<typeof setImmediate>);
    else clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** A clock that moves only when told to; timers fire in due order inside `advance`. */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimer(handle: unknown): void {
    if (typeof handle === "number") this.timers.delete(handle);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= until && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fn();
    }
    this.time = until;
  }
}

/** Tests: whether `p` has settled (either way) by the next turn of the event loop. */
export async function settledByNextTurn(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  const mark = () => {
    settled = true;
  };
  p.then(mark, mark);
  await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}
