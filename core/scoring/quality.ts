/**
 * Per-item quality of an ensemble answer, higher is better. Brier and accuracy only: with log-loss a noise expert
 * scores positive in mixtures because it hedges confidently wrong members (MODELS.md section 4).
 *
 * - `brier`: 1 - Brier/2, in [0, 1] (Brier = sum over classes of (p - y)^2, in [0, 2]).
 * - `neg-brier`: -Brier, in [-2, 0]. Same Shapley values as `brier` times 2.
 * - `accuracy`: 1 when the label has the top probability; ties share the credit (1/#tied), so the uniform prior
 *   scores 1/classes instead of favouring class 0.
 */
export type QualityMetric = "brier" | "neg-brier" | "accuracy";

export const QUALITY_METRICS: readonly QualityMetric[] = ["brier", "neg-brier", "accuracy"];

/** Quality of `num / den` (an unnormalised mixture: num = sum of gate * probs, den = sum of gates) for label y. */
export function mixtureQuality(
  metric: QualityMetric,
  num: Float64Array,
  offset: number,
  classes: number,
  den: number,
  label: number,
): number {
  if (metric === "accuracy") {
    let best = Number.NEGATIVE_INFINITY;
    let ties = 0;
    let labelIsBest = false;
    for (let c = 0; c < classes; c++) {
      const v = num[offset + c] ?? 0;
      if (v > best) {
        best = v;
        ties = 1;
        labelIsBest = c === label;
      } else if (v === best) {
        ties++;
        if (c === label) labelIsBest = true;
      }
    }
    return labelIsBest ? 1 / ties : 0;
  }
  let sumSquares = 0;
  for (let c = 0; c < classes; c++) {
    const v = num[offset + c] ?? 0;
    sumSquares += v * v;
  }
  const inv = 1 / den;
  const brier = sumSquares * inv * inv - 2 * (num[offset + label] ?? 0) * inv + 1;
  return metric === "brier" ? 1 - brier / 2 : -brier;
}

/** Quality of the uniform prior (what an empty coalition, or an unanswered item, is worth). */
export function uniformQuality(metric: QualityMetric, classes: number): number {
  if (metric === "accuracy") return 1 / classes;
  const brier = 1 - 1 / classes;
  return metric === "brier" ? 1 - brier / 2 : -brier;
}
