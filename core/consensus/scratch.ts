/**
 * Grow-only typed buffers reused from one epoch to the next.
 *
 * Why: at n = 4096 with 256 validators one epoch needs ~100 MB of intermediate typed arrays. Allocated fresh, these
 * are external ArrayBuffers whose churn makes V8 start a full mark-compact of the caller's whole heap in (nearly)
 * every epoch ("external memory pressure"), which cost more than the epoch's arithmetic. Reusing them removes that.
 *
 * Rules: a slot name serves one live array at a time; the epoch is synchronous, so two epochs never share a slot;
 * nothing returned to a caller may be a view into a slot (outputs are copied out). Views come back zero-filled.
 */
class Scratch {
  private readonly f64s = new Map<string, Float64Array>();
  private readonly i32s = new Map<string, Int32Array>();
  private readonly u16s = new Map<string, Uint16Array>();

  f64(slot: string, length: number): Float64Array {
    let buf = this.f64s.get(slot);
    if (buf === undefined || buf.length < length) {
      buf = new Float64Array(grown(length));
      this.f64s.set(slot, buf);
      return buf.subarray(0, length);
    }
    const view = buf.subarray(0, length);
    view.fill(0);
    return view;
  }

  i32(slot: string, length: number): Int32Array {
    let buf = this.i32s.get(slot);
    if (buf === undefined || buf.length < length) {
      buf = new Int32Array(grown(length));
      this.i32s.set(slot, buf);
      return buf.subarray(0, length);
    }
    const view = buf.subarray(0, length);
    view.fill(0);
    return view;
  }

  u16(slot: string, length: number): Uint16Array {
    let buf = this.u16s.get(slot);
    if (buf === undefined || buf.length < length) {
      buf = new Uint16Array(grown(length));
      this.u16s.set(slot, buf);
      return buf.subarray(0, length);
    }
    const view = buf.subarray(0, length);
    view.fill(0);
    return view;
  }

  /** Drops every buffer (for a long-lived process that ran one huge epoch and wants the memory back). */
  clear(): void {
    this.f64s.clear();
    this.i32s.clear();
    this.u16s.clear();
  }
}

/** Some headroom, so that a network growing by a few uids or entries does not reallocate every epoch. */
function grown(length: number): number {
  return Math.max(16, Math.ceil(length * 1.125));
}

export const scratch = new Scratch();

/** Frees the reused epoch buffers (~100 MB after an n = 4096 epoch); the next epoch allocates them again. */
export function releaseEpochScratch(): void {
  scratch.clear();
}
