import { scratch } from "./scratch.ts";
import type { SparseRow } from "./types.ts";

/**
 * Compressed sparse rows: row i holds entries ptr[i] .. ptr[i+1]-1, columns ascending.
 * `val` holds I32F32 raw values (exact path) or plain floats (float baseline).
 * Inside an epoch the arrays are usually views into scratch buffers (scratch.ts): never hand one to a caller.
 */
export interface Csr {
  readonly n: number;
  readonly ptr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/** A CSR's layout without values (masked storage rows, whose values are given to it later with withValues). */
export type CsrShape = Omit<Csr, "val">;

/**
 * Which stored entries survive the epoch's masks (get_weights_sparse + mask_* in run_epoch.rs), as per-row and
 * per-column numbers instead of a callback, because this runs once per stored entry (millions at n = 4096):
 * entry (i, j) is kept when row i is kept, `colKey[j] < below[i]`, `colKey[j] <= atMost[i]`, and not
 * (`dropDiagonal` and i === j and i !== `diagonalOwner`).
 */
export interface EntryMask {
  readonly rowKept: Uint8Array;
  readonly colKey: Float64Array;
  readonly below: Float64Array;
  readonly atMost: Float64Array | null;
  readonly dropDiagonal: boolean;
  readonly diagonalOwner: number;
}

function byColumn(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0];
}

/**
 * Builds a CSR from storage rows, keeping entries with 0 <= j < n that pass `mask`, sorted by uid (stable, so a
 * duplicate uid keeps its stored order). Rows of index >= n are ignored, missing rows are empty.
 * `slot` names the scratch buffers the result lives in.
 */
export function csrFromRows(
  n: number,
  rows: readonly SparseRow[],
  mask: EntryMask,
  slot: string,
): { csr: CsrShape; u16: Uint16Array } {
  const { rowKept, colKey, below, atMost, dropDiagonal, diagonalOwner } = mask;
  let total = 0;
  for (let i = 0; i < n; i++) if (rowKept[i] === 1) total += rows[i]?.length ?? 0;
  const ptr = scratch.i32(`${slot}.ptr`, n + 1);
  const col = scratch.i32(`${slot}.col`, total);
  const u16 = scratch.u16(`${slot}.u16`, total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    ptr[i] = k;
    const row = rows[i];
    if (row === undefined || rowKept[i] !== 1) continue;
    const lim = below[i] ?? 0;
    const most = atMost === null ? Infinity : (atMost[i] ?? 0);
    const diag = dropDiagonal && i !== diagonalOwner ? i : -1;
    // One pass for the usual sorted row; an unsorted one is rewound and done again from a sorted copy.
    let prev = -Infinity;
    let sorted = true;
    for (let e = 0; e < row.length; e++) {
      const entry = row[e];
      if (entry === undefined) continue;
      const j = entry[0];
      if (j < prev) {
        sorted = false;
        break;
      }
      prev = j;
      if (j < 0 || j >= n || j === diag) continue;
      const key = colKey[j] ?? 0;
      if (!(key < lim) || !(key <= most)) continue;
      col[k] = j;
      u16[k] = entry[1];
      k++;
    }
    if (sorted) continue;
    k = ptr[i] ?? 0;
    const ordered = [...row].sort(byColumn);
    for (const [j, v] of ordered) {
      if (j < 0 || j >= n || j === diag) continue;
      const key = colKey[j] ?? 0;
      if (!(key < lim) || !(key <= most)) continue;
      col[k] = j;
      u16[k] = v;
      k++;
    }
  }
  ptr[n] = k;
  return { csr: { n, ptr, col: col.subarray(0, k) }, u16: u16.subarray(0, k) };
}

/** A CSR with the same shape and fresh values. */
export function withValues(m: CsrShape, val: Float64Array): Csr {
  return { n: m.n, ptr: m.ptr, col: m.col, val };
}

/**
 * CSR writer over scratch buffers of a known maximum size (every caller has an exact upper bound on its entries, so
 * nothing ever grows): rows must be appended in order, columns ascending within a row.
 */
export class CsrBuilder {
  readonly ptr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
  k = 0;
  private row = 0;

  constructor(
    private readonly n: number,
    capacity: number,
    slot: string,
  ) {
    this.ptr = scratch.i32(`${slot}.ptr`, n + 1);
    this.col = scratch.i32(`${slot}.col`, capacity);
    this.val = scratch.f64(`${slot}.val`, capacity);
  }

  /** Starts row i (rows skipped in between are empty). */
  startRow(i: number): void {
    while (this.row <= i) this.ptr[this.row++] = this.k;
  }

  push(j: number, v: number): void {
    this.col[this.k] = j;
    this.val[this.k] = v;
    this.k++;
  }

  finish(): Csr {
    while (this.row <= this.n) this.ptr[this.row++] = this.k;
    return { n: this.n, ptr: this.ptr, col: this.col.subarray(0, this.k), val: this.val.subarray(0, this.k) };
  }
}

/** Per-column sums of a CSR's values (exact for raws: sums of values below 2^33 over at most 2^16 rows). */
export function columnSums(m: Csr, slot: string): Float64Array {
  const sums = scratch.f64(slot, m.n);
  const { col, val } = m;
  for (let e = 0; e < col.length; e++) {
    const j = col[e] ?? 0;
    sums[j] = (sums[j] ?? 0) + (val[e] ?? 0);
  }
  return sums;
}

/** Per-row sums of a CSR's values. */
export function rowSums(m: Csr): Float64Array {
  const sums = new Float64Array(m.n);
  const { ptr, val } = m;
  for (let i = 0; i < m.n; i++) {
    let s = 0;
    const end = ptr[i + 1] ?? 0;
    for (let e = ptr[i] ?? 0; e < end; e++) s += val[e] ?? 0;
    sums[i] = s;
  }
  return sums;
}
