import type { CleanOutputs } from "./expert-outputs.ts";

export interface DuplicateOptions {
  /** Two experts whose answered rows all differ by less than this are copies. Default 1e-6. */
  readonly maxAbsDiff?: number;
  /** ...or whose answers correlate above this (Pearson, over the flattened probabilities). Default 0.999. */
  readonly minCorrelation?: number;
  /** Share of items both must have answered before outputs can be compared. Default 0.5. */
  readonly minOverlap?: number;
}

export interface ExpertRegistration {
  /** Non-empty model hash (e.g. the sha256 of the served .onnx); equal hashes are copies whatever the outputs. */
  readonly modelHash?: string;
  readonly registrationBlock: number;
  readonly uid: number;
}

/** One player of the copy-resistant game: its members are copies of each other; the representative is paid. */
export interface ExpertGroup {
  /** Expert index (into outputs) of the first registered member: lowest registration block, then uid. */
  readonly representative: number;
  /** All member expert indexes, representative first, then by registration. */
  readonly members: readonly number[];
}

/**
 * Groups experts that are copies of each other: the same model hash, or near-identical outputs on this epoch's
 * items (compared on the items both answered). Groups are closed transitively (union-find), so a chain of
 * near-copies is one player. Groups come back ordered by their representative's expert index.
 */
export function groupDuplicates(
  outputs: CleanOutputs,
  registrations: readonly ExpertRegistration[],
  options: DuplicateOptions = {},
): ExpertGroup[] {
  const { experts, items, classes } = outputs;
  const maxAbsDiff = options.maxAbsDiff ?? 1e-6;
  const minCorrelation = options.minCorrelation ?? 0.999;
  const minOverlap = options.minOverlap ?? 0.5;
  const parent = Array.from({ length: experts }, (_, e) => e);
  const find = (e: number): number => {
    let r = e;
    while ((parent[r] ?? r) !== r) r = parent[r] ?? r;
    let x = e;
    while ((parent[x] ?? x) !== r) {
      const next = parent[x] ?? x;
      parent[x] = r;
      x = next;
    }
    return r;
  };
  const union = (a: number, b: number): void => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  const byHash = new Map<string, number>();
  for (let e = 0; e < experts; e++) {
    const hash = registrations[e]?.modelHash;
    if (hash === undefined || hash === "") continue;
    const seen = byHash.get(hash);
    if (seen === undefined) byHash.set(hash, e);
    else union(seen, e);
  }

  const width = items * classes;
  for (let a = 0; a < experts; a++) {
    for (let b = a + 1; b < experts; b++) {
      if (find(a) === find(b)) continue;
      if (outputsMatch(outputs, a, b, width, maxAbsDiff, minCorrelation, minOverlap)) union(a, b);
    }
  }

  const members = new Map<number, number[]>();
  for (let e = 0; e < experts; e++) {
    const root = find(e);
    const list = members.get(root) ?? [];
    list.push(e);
    members.set(root, list);
  }
  const groups: ExpertGroup[] = [];
  for (const list of members.values()) {
    list.sort((x, y) => registeredBefore(registrations, x, y));
    const representative = list[0] ?? 0;
    groups.push({ representative, members: list });
  }
  return groups.sort((x, y) => x.representative - y.representative);
}

function registeredBefore(registrations: readonly ExpertRegistration[], x: number, y: number): number {
  const rx = registrations[x];
  const ry = registrations[y];
  const bx = rx?.registrationBlock ?? Number.POSITIVE_INFINITY;
  const by = ry?.registrationBlock ?? Number.POSITIVE_INFINITY;
  if (bx !== by) return bx < by ? -1 : 1;
  const ux = rx?.uid ?? Number.POSITIVE_INFINITY;
  const uy = ry?.uid ?? Number.POSITIVE_INFINITY;
  if (ux !== uy) return ux < uy ? -1 : 1;
  return x - y;
}

function outputsMatch(
  outputs: CleanOutputs,
  a: number,
  b: number,
  width: number,
  maxAbsDiff: number,
  minCorrelation: number,
  minOverlap: number,
): boolean {
  const { items, classes, probs, answered } = outputs;
  let overlap = 0;
  let close = true;
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < items; i++) {
    if (answered[a * items + i] !== 1 || answered[b * items + i] !== 1) continue;
    overlap++;
    const pa = a * width + i * classes;
    const pb = b * width + i * classes;
    for (let c = 0; c < classes; c++) {
      const x = probs[pa + c] ?? 0;
      const y = probs[pb + c] ?? 0;
      if (Math.abs(x - y) >= maxAbsDiff) close = false;
      n++;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
    }
  }
  if (overlap === 0 || overlap < minOverlap * items) return false;
  if (close) return true;
  const cov = sxy - (sx * sy) / n;
  const vx = sxx - (sx * sx) / n;
  const vy = syy - (sy * sy) / n;
  if (!(vx > 0 && vy > 0)) return false;
  return cov / Math.sqrt(vx * vy) > minCorrelation;
}
