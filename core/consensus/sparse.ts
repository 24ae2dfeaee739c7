import type { SparseRow } from "./types.ts";

/**
 * Compressed sparse rows: row i holds entries ptr[i] .. ptr[i+1]-1, columns ascending.
 * `val` holds I32F32 raw values (exact path) or plain floats (float baseline).
 */
export interface Csr {
  readonly n: number;
  readonly ptr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/** Which (i, j) entries of a stored row survive the epoch's masks (get_weights_sparse + mask_* in run_epoch.rs). */
export type EntryFilter = (i: number, j: number) => boolean;

function byColumn(a: readonly [number, number], b: readonly [number, number]): number {
  return a[0] - b[0];
}

/**
 * Builds a CSR from storage rows, keeping entries with j < n that pass `keep`, sorted by uid (stable, so a
 * duplicate uid keeps its stored order). Rows of index >= n are ignored, missing rows are empty.
 * `rowKept(i) === false` empties the whole row (mask_rows_sparse).
 */
export function csrFromRows(
  n: number,
  rows: readonly SparseRow[],
  rowKept: (i: number) => boolean,
  keep: EntryFilter,
): { csr: Csr; u16: Uint16Array } {
  const ptr = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) total += rowKept(i) ? (rows[i]?.length ?? 0) : 0;
  const col = new Int32Array(total);
  const u16 = new Uint16Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    ptr[i] = k;
    const row = rows[i];
    if (row === undefined || !rowKept(i)) continue;
    let sorted = true;
    for (let e = 1; e < row.length; e++) {
      const prev = row[e - 1];
      const cur = row[e];
      if (prev !== undefined && cur !== undefined && cur[0] < prev[0]) {
        sorted = false;
        break;
      }
    }
    const ordered = sorted ? row : [...row].sort(byColumn);
    for (const entry of ordered) {
      const j = entry[0];
      if (j < 0 || j >= n || !keep(i, j)) continue;
      col[k] = j;
      u16[k] = entry[1];
      k++;
    }
  }
  ptr[n] = k;
  return {
    csr: { n, ptr, col: col.subarray(0, k), val: new Float64Array(k) },
    u16: u16.subarray(0, k),
  };
}

/** A CSR with the same shape and fresh values. */
export function withValues(m: Csr, val: Float64Array): Csr {
  return { n: m.n, ptr: m.ptr, col: m.col, val };
}

/** Growable CSR writer: rows must be appended in order, columns ascending within a row. */
export class CsrBuilder {
  private readonly ptr: Int32Array;
  private col: Int32Array;
  private val: Float64Array;
  private k = 0;
  private row = 0;

  constructor(
    private readonly n: number,
    capacity: number,
  ) {
    this.ptr = new Int32Array(n + 1);
    this.col = new Int32Array(Math.max(16, capacity));
    this.val = new Float64Array(Math.max(16, capacity));
  }

  /** Starts row i (rows skipped in between are empty). */
  startRow(i: number): void {
    while (this.row <= i) this.ptr[this.row++] = this.k;
  }

  push(j: number, v: number): void {
    if (this.k === this.col.length) {
      const col = new Int32Array(this.col.length * 2);
      col.set(this.col);
      this.col = col;
      const val = new Float64Array(this.val.length * 2);
      val.set(this.val);
      this.val = val;
    }
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
export function columnSums(m: Csr): Float64Array {
  const sums = new Float64Array(m.n);
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
