import { mulberry32, shuffledIndices } from "../tasks/prng.ts";
import { gateForward, initGate } from "./gate-network.ts";
import type { GateParams } from "./gate-params.ts";

export interface GateTrainingData {
  readonly items: number;
  readonly inputSize: number;
  /** inputs[i * inputSize + j]. */
  readonly inputs: Float32Array | Float64Array;
  /** uid of each expert column of `losses`. */
  readonly expertUids: readonly number[];
  /**
   * losses[i * experts + e]: expert e's loss on item i (e.g. its Brier score; lower is better).
   * NaN marks a missing answer and counts as the worst loss any expert had on that item.
   */
  readonly losses: Float32Array | Float64Array;
  /**
   * known[i * experts + e] = 0: expert e was never asked item i (e.g. it joined after the item was answered). Unlike
   * a missing answer, that says nothing about the expert: it is left out of that item's softmax and targets.
   * Omitted = every expert was asked every item.
   */
  readonly known?: Uint8Array;
  /**
   * likelihoods[i * experts + e]: the probability expert e gave item i's true answer (digits: p(label); for several
   * rows, their geometric mean). When given, the gate is trained as the mixture of experts it routes for (Jacobs et
   * al. 1991): it maximises log sum_e gate_e * likelihood_e, whose targets are the posterior responsibilities
   * gate_e * likelihood_e / sum. An expert that hedges (abstains) is then not pushed down as hard as one that is
   * confidently wrong, and where the gate cannot tell which specialist knows an input it learns to spread over both.
   * Omitted: soft targets softmax(-loss / temperature) as before.
   */
  readonly likelihoods?: Float32Array | Float64Array;
}

export interface GateTrainingOptions {
  readonly seed: number;
  readonly hidden?: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /**
   * Targets are softmax(-loss / temperature) (MODELS.md: soft targets from each expert's loss). Brier differences
   * are at most 2, so temperature 1 gives near-flat targets; the default 0.1 makes the better expert clearly win.
   */
  readonly temperature?: number;
}

export interface TrainedGate {
  readonly params: GateParams;
  /** Mean cross-entropy to the soft targets after each epoch (should fall). */
  readonly lossByEpoch: number[];
}

/**
 * Soft routing targets per item: softmax(-loss / temperature) over the experts that were asked the item (all of them
 * unless `known` says otherwise); experts not asked get target 0. Equal losses, equal targets.
 */
export function softTargets(data: GateTrainingData, temperature: number): Float64Array {
  const experts = data.expertUids.length;
  const out = new Float64Array(data.items * experts);
  const asked = (k: number): boolean => data.known === undefined || data.known[k] === 1;
  for (let i = 0; i < data.items; i++) {
    let worst = Number.NEGATIVE_INFINITY;
    for (let e = 0; e < experts; e++) {
      const l = data.losses[i * experts + e] ?? Number.NaN;
      if (asked(i * experts + e) && Number.isFinite(l)) worst = Math.max(worst, l);
    }
    if (worst === Number.NEGATIVE_INFINITY) worst = 0;
    let best = Number.POSITIVE_INFINITY;
    for (let e = 0; e < experts; e++) {
      if (!asked(i * experts + e)) continue;
      const l = data.losses[i * experts + e] ?? Number.NaN;
      const loss = Number.isFinite(l) ? l : worst;
      out[i * experts + e] = loss;
      best = Math.min(best, loss);
    }
    let z = 0;
    for (let e = 0; e < experts; e++) {
      const k = i * experts + e;
      const w = asked(k) ? Math.exp(-((out[k] ?? 0) - best) / temperature) : 0;
      out[k] = w;
      z += w;
    }
    for (let e = 0; e < experts; e++) out[i * experts + e] = z > 0 ? (out[i * experts + e] ?? 0) / z : 0;
  }
  return out;
}

/** Trains the gate MLP by Adam on cross-entropy between softmax(logits) and the soft targets. Seeded, deterministic. */
export function trainGate(data: GateTrainingData, options: GateTrainingOptions): TrainedGate {
  const steps = trainGateSteps(data, options);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * trainGate one training epoch at a time: the generator yields after each (the epoch's index) and returns the
 * trained gate. A caller that shares its thread with other work (the local market's validator runs beside the API)
 * can let that work run between epochs: trained on a few hundred items the whole run takes 100-200 ms, which would
 * otherwise stall every request in flight for that long.
 */
export function* trainGateSteps(data: GateTrainingData, options: GateTrainingOptions): Generator<number, TrainedGate> {
  const { items, inputSize, inputs } = data;
  const experts = data.expertUids.length;
  if (inputs.length !== items * inputSize) throw new RangeError(`inputs has ${inputs.length} values`);
  if (data.losses.length !== items * experts) throw new RangeError(`losses has ${data.losses.length} values`);
  const known = data.known;
  if (known !== undefined && known.length !== items * experts) throw new RangeError(`known has ${known.length} values`);
  const asked = (k: number): boolean => known === undefined || known[k] === 1;
  const hidden = options.hidden ?? 32;
  const epochs = options.epochs ?? 20;
  const batchSize = Math.max(1, options.batchSize ?? 32);
  const lr = options.learningRate ?? 0.005;
  const rng = mulberry32(options.seed);
  const params = initGate(inputSize, hidden, data.expertUids, rng);
  const likelihoods = data.likelihoods;
  if (likelihoods !== undefined && likelihoods.length !== items * experts)
    throw new RangeError(`likelihoods has ${likelihoods.length} values`);
  const targets = likelihoods === undefined ? softTargets(data, options.temperature ?? 0.1) : new Float64Array(0);
  const resp = new Float64Array(experts);
  const tensors = [params.w1, params.b1, params.w2, params.b2];
  const grads = tensors.map((t) => new Float64Array(t.length));
  const m = tensors.map((t) => new Float64Array(t.length));
  const v = tensors.map((t) => new Float64Array(t.length));
  const [gw1, gb1, gw2, gb2] = grads as [Float64Array, Float64Array, Float64Array, Float64Array];
  const h = new Float64Array(hidden);
  const logits = new Float64Array(experts);
  const delta = new Float64Array(experts);
  const dh = new Float64Array(hidden);
  const beta1 = 0.9;
  const beta2 = 0.999;
  let step = 0;
  const lossByEpoch: number[] = [];

  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = shuffledIndices(items, rng);
    let epochLoss = 0;
    for (let start = 0; start < items; start += batchSize) {
      for (const g of grads) g.fill(0);
      const end = Math.min(items, start + batchSize);
      for (let b = start; b < end; b++) {
        const item = order[b] ?? 0;
        const x = inputs.subarray(item * inputSize, (item + 1) * inputSize);
        gateForward(params, x, h, logits);
        // Softmax over the experts asked this item only: the others neither gain nor lose from it.
        let max = Number.NEGATIVE_INFINITY;
        for (let e = 0; e < experts; e++) if (asked(item * experts + e)) max = Math.max(max, logits[e] ?? 0);
        let z = 0;
        for (let e = 0; e < experts; e++) if (asked(item * experts + e)) z += Math.exp((logits[e] ?? 0) - max);
        const logZ = max + Math.log(z);
        if (likelihoods !== undefined) {
          // Mixture objective: targets r_e = g_e q_e / sum_j g_j q_j over the experts asked, from this forward pass.
          let mix = 0;
          for (let e = 0; e < experts; e++) {
            const k = item * experts + e;
            // No answer (NaN) counts as the worst: a likelihood of almost nothing.
            const lk = likelihoods[k] ?? Number.NaN;
            const q = Number.isFinite(lk) ? Math.max(1e-6, lk) : 1e-6;
            resp[e] = asked(k) ? Math.exp((logits[e] ?? 0) - logZ) * q : 0;
            mix += resp[e] ?? 0;
          }
          for (let e = 0; e < experts; e++) resp[e] = mix > 0 ? (resp[e] ?? 0) / mix : 0;
        }
        for (let e = 0; e < experts; e++) {
          if (!asked(item * experts + e)) {
            delta[e] = 0;
            continue;
          }
          const p = Math.exp((logits[e] ?? 0) - logZ);
          const t = likelihoods === undefined ? (targets[item * experts + e] ?? 0) : (resp[e] ?? 0);
          if (t > 0) epochLoss -= t * ((logits[e] ?? 0) - logZ);
          delta[e] = p - t;
          gb2[e] = (gb2[e] ?? 0) + (delta[e] ?? 0);
        }
        for (let j = 0; j < hidden; j++) {
          const a = h[j] ?? 0;
          let back = 0;
          const row = j * experts;
          for (let e = 0; e < experts; e++) {
            const d = delta[e] ?? 0;
            if (a > 0) gw2[row + e] = (gw2[row + e] ?? 0) + a * d;
            back += (params.w2[row + e] ?? 0) * d;
          }
          dh[j] = a > 0 ? back : 0;
          gb1[j] = (gb1[j] ?? 0) + (dh[j] ?? 0);
        }
        for (let i = 0; i < inputSize; i++) {
          const xi = x[i] ?? 0;
          if (xi === 0 || !Number.isFinite(xi)) continue; // as in gateForward: bad inputs count as 0
          const row = i * hidden;
          for (let j = 0; j < hidden; j++) gw1[row + j] = (gw1[row + j] ?? 0) + xi * (dh[j] ?? 0);
        }
      }
      step++;
      const scale = 1 / (end - start);
      const correction1 = 1 - beta1 ** step;
      const correction2 = 1 - beta2 ** step;
      tensors.forEach((tensor, k) => {
        const g = grads[k] ?? new Float64Array(0);
        const mk = m[k] ?? new Float64Array(0);
        const vk = v[k] ?? new Float64Array(0);
        for (let p = 0; p < tensor.length; p++) {
          const gp = (g[p] ?? 0) * scale;
          const mp = beta1 * (mk[p] ?? 0) + (1 - beta1) * gp;
          const vp = beta2 * (vk[p] ?? 0) + (1 - beta2) * gp * gp;
          mk[p] = mp;
          vk[p] = vp;
          tensor[p] = (tensor[p] ?? 0) - (lr * (mp / correction1)) / (Math.sqrt(vp / correction2) + 1e-8);
        }
      });
    }
    lossByEpoch.push(epochLoss / Math.max(1, items));
    yield epoch;
  }
  return { params, lossByEpoch };
}
