import { mulberry32, shuffledIndices } from "../../tasks/prng.ts";
import { activations, type Mlp, softmax } from "./mlp.ts";

export interface TrainingSet {
  size: number;
  /** Features of example k (may be a view; it is not kept). */
  input(k: number): ArrayLike<number>;
  /** Target class of example k. */
  label(k: number): number;
  /**
   * Example k lies outside what the model should know: its target is the uniform distribution instead of `label`,
   * so the model learns to answer "I don't know" (near-uniform) there rather than a confident wrong class.
   */
  abstain?(k: number): boolean;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seeds the example order; with the same init this makes training bit-for-bit reproducible. */
  seed: number;
}

/** Minibatch Adam on softmax cross-entropy, in place. Deterministic: fixed order of every floating-point operation. */
export function trainMlp(mlp: Mlp, data: TrainingSet, opts: TrainOptions): Mlp {
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  const grads = mlp.layers.map((l) => ({ w: new Float64Array(l.weights.length), b: new Float64Array(l.bias.length) }));
  const m = mlp.layers.map((l) => ({ w: new Float64Array(l.weights.length), b: new Float64Array(l.bias.length) }));
  const v = mlp.layers.map((l) => ({ w: new Float64Array(l.weights.length), b: new Float64Array(l.bias.length) }));
  const rng = mulberry32(opts.seed);
  let step = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const order = shuffledIndices(data.size, rng);
    for (let start = 0; start < order.length; start += opts.batchSize) {
      const batch = order.slice(start, start + opts.batchSize);
      for (const g of grads) {
        g.w.fill(0);
        g.b.fill(0);
      }
      for (const k of batch) accumulateGradient(mlp, data.input(k), data.abstain?.(k) ? -1 : data.label(k), grads);
      step++;
      const lr = (opts.learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
      mlp.layers.forEach((layer, l) => {
        const g = grads[l];
        const mm = m[l];
        const vv = v[l];
        if (!g || !mm || !vv) return;
        adamUpdate(layer.weights, g.w, mm.w, vv.w, batch.length, lr, beta1, beta2, eps);
        adamUpdate(layer.bias, g.b, mm.b, vv.b, batch.length, lr, beta1, beta2, eps);
      });
    }
  }
  return mlp;
}

function adamUpdate(
  params: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
): void {
  for (let i = 0; i < params.length; i++) {
    const g = (grad[i] ?? 0) / n;
    const mi = beta1 * (m[i] ?? 0) + (1 - beta1) * g;
    const vi = beta2 * (v[i] ?? 0) + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = (params[i] ?? 0) - (lr * mi) / (Math.sqrt(vi) + eps);
  }
}

function accumulateGradient(
  mlp: Mlp,
  x: ArrayLike<number>,
  label: number,
  grads: { w: Float64Array; b: Float64Array }[],
): void {
  const acts = activations(mlp, x);
  // d(cross-entropy)/d(logits) = p - target: one-hot, or uniform for an abstaining example (label -1).
  let delta = Float64Array.from(softmax(acts[acts.length - 1] ?? []));
  if (label < 0) for (let j = 0; j < delta.length; j++) delta[j] = (delta[j] ?? 0) - 1 / delta.length;
  else delta[label] = (delta[label] ?? 0) - 1;
  for (let l = mlp.layers.length - 1; l >= 0; l--) {
    const layer = mlp.layers[l];
    const input = acts[l];
    const g = grads[l];
    if (!layer || !input || !g) return;
    const prev = new Float64Array(layer.inputs);
    for (let j = 0; j < layer.outputs; j++) g.b[j] = (g.b[j] ?? 0) + (delta[j] ?? 0);
    for (let i = 0; i < layer.inputs; i++) {
      const a = input[i] ?? 0;
      // A zero input adds no weight gradient; for a hidden unit it also means ReLU was off, so nothing flows back.
      if (a === 0) continue;
      const row = i * layer.outputs;
      let back = 0;
      for (let j = 0; j < layer.outputs; j++) {
        const d = delta[j] ?? 0;
        g.w[row + j] = (g.w[row + j] ?? 0) + a * d;
        back += (layer.weights[row + j] ?? 0) * d;
      }
      prev[i] = back;
    }
    delta = prev;
  }
}
