import { mulberry32, shuffledIndices } from "../../tasks/prng.ts";
import type { Mlp } from "./mlp.ts";

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
  const scratch = scratchFor(mlp);
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
      for (const k of batch)
        accumulateGradient(mlp, data.input(k), data.abstain?.(k) ? -1 : data.label(k), grads, scratch);
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
    const gi = grad[i] as number;
    const m0 = m[i] as number;
    const v0 = v[i] as number;
    // A parameter that has never had a gradient (a masked or never-lit pixel's weights) would move by exactly 0.
    if (gi === 0 && m0 === 0 && v0 === 0) continue;
    const g = gi / n;
    const mi = beta1 * m0 + (1 - beta1) * g;
    const vi = beta2 * v0 + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    params[i] = (params[i] as number) - (lr * mi) / (Math.sqrt(vi) + eps);
  }
}

/** Per-run scratch buffers, so that no example allocates: one activation and one delta vector per layer. */
interface Scratch {
  acts: Float64Array[];
  deltas: Float64Array[];
  /** Indices of the non-zero entries of the layer's input (those that add to its forward pass and its gradient). */
  active: Int32Array[];
  exps: Float64Array;
}

function scratchFor(mlp: Mlp): Scratch {
  const first = mlp.layers[0];
  const sizes = [first?.inputs ?? 0, ...mlp.layers.map((l) => l.outputs)];
  const last = sizes[sizes.length - 1] ?? 0;
  return {
    acts: sizes.map((s) => new Float64Array(s)),
    deltas: sizes.map((s) => new Float64Array(s)),
    active: sizes.map((s) => new Int32Array(s)),
    exps: new Float64Array(last),
  };
}

/**
 * The gradient of one example, added to `grads`. The same floating-point operations in the same order as
 * `activations` + `softmax` followed by plain back-propagation (so the trained weights are bit-for-bit the same), but
 * on preallocated buffers and over the input's non-zero entries only, and without the input layer's back-propagated
 * delta, which nothing reads.
 */
function accumulateGradient(
  mlp: Mlp,
  x: ArrayLike<number>,
  label: number,
  grads: { w: Float64Array; b: Float64Array }[],
  s: Scratch,
): void {
  const layers = mlp.layers;
  const nLayers = layers.length;
  const counts = new Array<number>(nLayers);
  const input0 = s.acts[0] as Float64Array;
  for (let i = 0; i < input0.length; i++) input0[i] = x[i] ?? 0;
  // Forward: out = bias, then += a * w over the non-zero inputs in ascending order (as `activations` does).
  for (let l = 0; l < nLayers; l++) {
    const layer = layers[l] as (typeof layers)[number];
    const input = s.acts[l] as Float64Array;
    const out = s.acts[l + 1] as Float64Array;
    const active = s.active[l] as Int32Array;
    const w = layer.weights;
    const outputs = layer.outputs;
    out.set(layer.bias);
    let count = 0;
    for (let i = 0; i < layer.inputs; i++) {
      const a = input[i] as number;
      if (a === 0) continue;
      active[count++] = i;
      const row = i * outputs;
      for (let j = 0; j < outputs; j++) out[j] = (out[j] as number) + a * (w[row + j] as number);
    }
    counts[l] = count;
    if (l < nLayers - 1) for (let j = 0; j < outputs; j++) out[j] = Math.max(0, out[j] as number);
  }
  // Softmax as `softmax` computes it; d(cross-entropy)/d(logits) = p - target: one-hot, or uniform for an
  // abstaining example (label -1).
  const logits = s.acts[nLayers] as Float64Array;
  const exps = s.exps;
  let delta = s.deltas[nLayers] as Float64Array;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] as number);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp((logits[i] as number) - max);
    exps[i] = e;
    sum += e;
  }
  for (let i = 0; i < logits.length; i++) delta[i] = (exps[i] as number) / sum;
  if (label < 0) for (let j = 0; j < delta.length; j++) delta[j] = (delta[j] as number) - 1 / delta.length;
  else delta[label] = (delta[label] as number) - 1;
  for (let l = nLayers - 1; l >= 0; l--) {
    const layer = layers[l] as (typeof layers)[number];
    const input = s.acts[l] as Float64Array;
    const g = grads[l] as { w: Float64Array; b: Float64Array };
    const gw = g.w;
    const gb = g.b;
    const w = layer.weights;
    const outputs = layer.outputs;
    const active = s.active[l] as Int32Array;
    const count = counts[l] as number;
    for (let j = 0; j < outputs; j++) gb[j] = (gb[j] as number) + (delta[j] as number);
    if (l === 0) {
      // The input layer's delta would go nowhere: only the weight gradient.
      for (let k = 0; k < count; k++) {
        const i = active[k] as number;
        const a = input[i] as number;
        const row = i * outputs;
        for (let j = 0; j < outputs; j++) gw[row + j] = (gw[row + j] as number) + a * (delta[j] as number);
      }
      return;
    }
    // A zero input adds no weight gradient; for a hidden unit it also means ReLU was off, so nothing flows back.
    const prev = s.deltas[l] as Float64Array;
    prev.fill(0);
    for (let k = 0; k < count; k++) {
      const i = active[k] as number;
      const a = input[i] as number;
      const row = i * outputs;
      let back = 0;
      for (let j = 0; j < outputs; j++) {
        const d = delta[j] as number;
        gw[row + j] = (gw[row + j] as number) + a * d;
        back += (w[row + j] as number) * d;
      }
      prev[i] = back;
    }
    delta = prev;
  }
}
