import type { Prng } from "../tasks/prng.ts";
import { GATE_VERSION, type GateParams } from "./gate-params.ts";

/**
 * Fresh gate: He-initialised first layer; output layer zero, so every expert starts with the same logit and experts
 * with identical training targets (copies) keep identical logits throughout training.
 */
export function initGate(inputSize: number, hidden: number, expertUids: readonly number[], rng: Prng): GateParams {
  const w1 = new Float32Array(inputSize * hidden);
  const scale = Math.sqrt(2 / inputSize);
  for (let k = 0; k < w1.length; k++) w1[k] = rng.gaussian() * scale;
  return {
    version: GATE_VERSION,
    inputSize,
    hidden,
    expertUids: [...expertUids],
    w1,
    b1: new Float32Array(hidden),
    w2: new Float32Array(hidden * expertUids.length),
    b2: new Float32Array(expertUids.length),
  };
}

/**
 * Forward pass for one input: fills `hiddenOut` (ReLU activations) and `logitsOut` (one per expert of the gate).
 * Missing or non-finite inputs count as 0, so a malformed query cannot poison the routing.
 */
export function gateForward(
  params: GateParams,
  x: ArrayLike<number>,
  hiddenOut: Float64Array,
  logitsOut: Float64Array,
): void {
  const { inputSize, hidden, w1, b1, w2, b2 } = params;
  const experts = params.expertUids.length;
  for (let h = 0; h < hidden; h++) hiddenOut[h] = b1[h] ?? 0;
  for (let i = 0; i < inputSize; i++) {
    const xi = x[i] ?? 0;
    if (xi === 0 || !Number.isFinite(xi)) continue; // digits are mostly background: skipping zeros halves the work
    const row = i * hidden;
    for (let h = 0; h < hidden; h++) hiddenOut[h] = (hiddenOut[h] ?? 0) + xi * (w1[row + h] ?? 0);
  }
  for (let e = 0; e < experts; e++) logitsOut[e] = b2[e] ?? 0;
  for (let h = 0; h < hidden; h++) {
    const a = Math.max(0, hiddenOut[h] ?? 0);
    hiddenOut[h] = a;
    if (a === 0) continue;
    const row = h * experts;
    for (let e = 0; e < experts; e++) logitsOut[e] = (logitsOut[e] ?? 0) + a * (w2[row + e] ?? 0);
  }
}
