/**
 * Indices of the k largest scores, best first (ties: lower index first), without sorting all n:
 * a size-k min-heap of the best seen so far, O(n log k). NaN counts as -Infinity; k is clamped to [0, n].
 */
export function selectTopK(scores: ArrayLike<number>, k: number): Int32Array {
  const n = scores.length;
  const size = Math.max(0, Math.min(n, Math.floor(k)));
  const heap = new Int32Array(size);
  if (size === 0) return heap;
  const score = (i: number): number => {
    const s = scores[i] ?? Number.NEGATIVE_INFINITY;
    return Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
  };
  // "a ranks below b": lower score, or equal score and higher index. The heap root is the worst kept entry.
  const below = (a: number, b: number): boolean => {
    const sa = score(a);
    const sb = score(b);
    return sa < sb || (sa === sb && a > b);
  };
  const siftDown = (from: number, length: number): void => {
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= length) return;
      const right = left + 1;
      let worst = left;
      if (right < length && below(heap[right] ?? 0, heap[left] ?? 0)) worst = right;
      if (!below(heap[worst] ?? 0, heap[i] ?? 0)) return;
      const tmp = heap[i] ?? 0;
      heap[i] = heap[worst] ?? 0;
      heap[worst] = tmp;
      i = worst;
    }
  };
  for (let i = 0; i < size; i++) heap[i] = i;
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i, size);
  // Every later index ranks below an equal score already kept, so only a strictly higher score enters; comparing
  // against the cached root score keeps the common case (most experts are not in the top k) to one comparison.
  let threshold = score(heap[0] ?? 0);
  for (let i = size; i < n; i++) {
    const s = scores[i] ?? Number.NEGATIVE_INFINITY;
    if (s > threshold) {
      heap[0] = i;
      siftDown(0, size);
      threshold = score(heap[0] ?? 0);
    }
  }
  // Heap-sort in place: repeatedly move the worst kept entry to the end, leaving best first.
  for (let end = size - 1; end > 0; end--) {
    const tmp = heap[0] ?? 0;
    heap[0] = heap[end] ?? 0;
    heap[end] = tmp;
    siftDown(0, end);
  }
  return heap;
}
