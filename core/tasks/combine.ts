/**
 * Gate-weighted average of probability vectors. Gates are renormalised over the outputs actually present, so a
 * missing or failed expert does not shrink the answer; non-positive or non-finite gates count as zero, and if no
 * gate is positive the members are averaged equally.
 */
export function weightedAverage(vectors: readonly (readonly number[])[], gates: readonly number[]): number[] {
  const first = vectors[0];
  if (first === undefined) return [];
  const length = first.length;
  const weights = vectors.map((_, i) => {
    const g = gates[i] ?? 0;
    return Number.isFinite(g) && g > 0 ? g : 0;
  });
  let total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) {
    weights.fill(1);
    total = weights.length;
  }
  const out = new Array<number>(length).fill(0);
  vectors.forEach((vec, i) => {
    const w = (weights[i] ?? 0) / total;
    if (w === 0) return;
    for (let k = 0; k < length; k++) out[k] = (out[k] ?? 0) + w * (vec[k] ?? 0);
  });
  return out;
}
