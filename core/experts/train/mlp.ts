import type { Prng } from "../../tasks/prng.ts";

/** Fully connected layer; `weights` is [inputs][outputs] row-major, the layout of ONNX Gemm's B with transB = 0. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  weights: Float64Array;
  bias: Float64Array;
}

/** ReLU between layers, softmax after the last one. */
export interface Mlp {
  layers: DenseLayer[];
}

/** He-initialised MLP with layer sizes e.g. [784, 32, 10]. */
export function initMlp(sizes: readonly number[], rng: Prng): Mlp {
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l] ?? 0;
    const outputs = sizes[l + 1] ?? 0;
    const scale = Math.sqrt(2 / inputs);
    const weights = new Float64Array(inputs * outputs);
    for (let i = 0; i < weights.length; i++) weights[i] = rng.gaussian() * scale;
    layers.push({ inputs, outputs, weights, bias: new Float64Array(outputs) });
  }
  return { layers };
}

/** Rounds every parameter to float32, so that this forward pass computes on exactly the weights ONNX will hold. */
export function roundToFloat32(mlp: Mlp): Mlp {
  for (const layer of mlp.layers) {
    for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = Math.fround(layer.weights[i] ?? 0);
    for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = Math.fround(layer.bias[i] ?? 0);
  }
  return mlp;
}

/** Activations of every layer (index 0 = input); the last entry holds the logits. */
export function activations(mlp: Mlp, x: ArrayLike<number>): Float64Array[] {
  const acts: Float64Array[] = [Float64Array.from({ length: x.length }, (_, i) => x[i] ?? 0)];
  mlp.layers.forEach((layer, l) => {
    const input = acts[l] as Float64Array;
    const out = Float64Array.from(layer.bias);
    for (let i = 0; i < layer.inputs; i++) {
      const a = input[i] ?? 0;
      // Images and ReLU outputs are mostly zeros: skipping them makes training several times faster.
      if (a === 0) continue;
      const row = i * layer.outputs;
      for (let j = 0; j < layer.outputs; j++) out[j] = (out[j] ?? 0) + a * (layer.weights[row + j] ?? 0);
    }
    if (l < mlp.layers.length - 1) for (let j = 0; j < out.length; j++) out[j] = Math.max(0, out[j] ?? 0);
    acts.push(out);
  });
  return acts;
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] ?? 0);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp((logits[i] ?? 0) - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Class probabilities for one input. */
export function predict(mlp: Mlp, x: ArrayLike<number>): number[] {
  const acts = activations(mlp, x);
  return softmax(acts[acts.length - 1] ?? []);
}
