/**
 * Per-item expert outputs of one validation epoch, in one flat typed array.
 *
 * Layout: `probs[(e * items + i) * classes + c]` is expert `e`'s probability of class `c` on item `i`
 * (expert-major, so one expert's answers are contiguous and copy detection can compare two slices).
 * `answered[e * items + i]` is 1 when expert `e` answered item `i`; when omitted every row counts as answered.
 *
 * Expert outputs are untrusted: a row is clamped at 0 and renormalised to sum 1 before it enters any game, so an
 * expert cannot outweigh the others by answering [1e9, 0, ...]. A row that is unanswered, non-finite or sums to 0
 * counts as the uniform prior (an uninformed answer earns nothing and costs nothing).
 */
export interface ExpertOutputs {
  readonly experts: number;
  readonly items: number;
  readonly classes: number;
  readonly probs: Float64Array | Float32Array;
  readonly answered?: Uint8Array;
}

/** Sanitised outputs: every row a probability vector; `answered` says which rows were real answers. */
export interface CleanOutputs {
  readonly experts: number;
  readonly items: number;
  readonly classes: number;
  readonly probs: Float64Array;
  readonly answered: Uint8Array;
}

export class ScoringInputError extends RangeError {
  override name = "ScoringInputError";
}

export function checkShape(outputs: ExpertOutputs): void {
  const { experts, items, classes } = outputs;
  for (const [name, v] of [
    ["experts", experts],
    ["items", items],
    ["classes", classes],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ScoringInputError(`${name} must be a non-negative integer, got ${v}`);
  }
  if (classes < 1) throw new ScoringInputError("classes must be at least 1");
  if (outputs.probs.length !== experts * items * classes) {
    throw new ScoringInputError(`probs has ${outputs.probs.length} values, expected ${experts * items * classes}`);
  }
  if (outputs.answered !== undefined && outputs.answered.length !== experts * items) {
    throw new ScoringInputError(`answered has ${outputs.answered.length} flags, expected ${experts * items}`);
  }
}

export function cleanOutputs(outputs: ExpertOutputs): CleanOutputs {
  checkShape(outputs);
  const { experts, items, classes } = outputs;
  const probs = new Float64Array(experts * items * classes);
  const answered = new Uint8Array(experts * items);
  const uniform = 1 / classes;
  for (let row = 0; row < experts * items; row++) {
    const base = row * classes;
    let sum = 0;
    let ok = outputs.answered === undefined || outputs.answered[row] === 1;
    for (let c = 0; ok && c < classes; c++) {
      const p = outputs.probs[base + c] ?? Number.NaN;
      if (!Number.isFinite(p)) ok = false;
      else if (p > 0) sum += p;
    }
    if (ok && sum > 0 && Number.isFinite(sum)) {
      answered[row] = 1;
      for (let c = 0; c < classes; c++) {
        const p = outputs.probs[base + c] ?? 0;
        probs[base + c] = p > 0 ? p / sum : 0;
      }
    } else {
      probs.fill(uniform, base, base + classes);
    }
  }
  return { experts, items, classes, probs, answered };
}

/** Labels as validated class indices; the validator owns them, so a bad label is a programming error. */
export function checkLabels(labels: ArrayLike<number>, items: number, classes: number): Int32Array {
  if (labels.length !== items) throw new ScoringInputError(`labels has ${labels.length} entries, expected ${items}`);
  const out = new Int32Array(items);
  for (let i = 0; i < items; i++) {
    const y = labels[i] ?? -1;
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw new ScoringInputError(`label ${i} is ${y}, not a class`);
    out[i] = y;
  }
  return out;
}

/**
 * Gates `gates[e * items + i]` >= 0: how much weight expert e gets on item i (e.g. the router's softmax).
 * Negative or non-finite gates count as 0. Omitted gates mean the plain mean (every gate 1).
 */
export function checkGates(gates: ArrayLike<number> | undefined, experts: number, items: number): Float64Array {
  const out = new Float64Array(experts * items);
  if (gates === undefined) return out.fill(1);
  if (gates.length !== experts * items) {
    throw new ScoringInputError(`gates has ${gates.length} values, expected ${experts * items}`);
  }
  for (let k = 0; k < out.length; k++) {
    const g = gates[k] ?? 0;
    out[k] = Number.isFinite(g) && g > 0 ? g : 0;
  }
  return out;
}
