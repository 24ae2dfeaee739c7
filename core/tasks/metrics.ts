/**
 * Quality of one answer against its known truth. The validator's games use Brier score and accuracy only:
 * log-loss rewards hedging with noise in mixtures (MODELS.md section 4), so it is deliberately absent.
 */
export interface Quality {
  /** Lower is better. Multi-class: sum over classes of (p - y)^2, in [0, 2]. Frames: mean of (p - y)^2, in [0, 1]. */
  brier: number;
  /** Fraction correct, in [0, 1]. */
  accuracy: number;
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  values.forEach((v, i) => {
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  });
  return best;
}

export function classificationQuality(probs: readonly number[], label: number): Quality {
  let brier = 0;
  probs.forEach((p, k) => {
    const y = k === label ? 1 : 0;
    brier += (p - y) ** 2;
  });
  return { brier, accuracy: argmax(probs) === label ? 1 : 0 };
}

/** Per-frame binary quality; a missing prediction frame counts as 0.5 (the uninformed answer). */
export function frameQuality(frameProbs: readonly number[], labels: readonly number[]): Quality {
  if (labels.length === 0) return { brier: 0, accuracy: 1 };
  let brier = 0;
  let correct = 0;
  labels.forEach((y, i) => {
    const p = frameProbs[i] ?? 0.5;
    brier += (p - y) ** 2;
    if ((p >= 0.5 ? 1 : 0) === y) correct++;
  });
  return { brier: brier / labels.length, accuracy: correct / labels.length };
}

export function meanQuality(items: readonly Quality[]): Quality {
  if (items.length === 0) return { brier: 0, accuracy: 0 };
  let brier = 0;
  let accuracy = 0;
  for (const q of items) {
    brier += q.brier;
    accuracy += q.accuracy;
  }
  return { brier: brier / items.length, accuracy: accuracy / items.length };
}
