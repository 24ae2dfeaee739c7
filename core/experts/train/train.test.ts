import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../tasks/prng.ts";
import { initMlp, predict } from "./mlp.ts";
import { trainMlp } from "./train.ts";

// Two Gaussian blobs in 4-D: class = sign of the first coordinate.
const rng = mulberry32(5);
const points = Array.from({ length: 200 }, (_, k) => {
  const label = k % 2;
  return {
    x: [label ? 1 + rng.gaussian() * 0.3 : -1 + rng.gaussian() * 0.3, rng.gaussian(), rng.gaussian(), rng.gaussian()],
    label,
  };
});
const set = {
  size: points.length,
  input: (k: number) => points[k]?.x ?? [],
  label: (k: number) => points[k]?.label ?? 0,
};
const accuracy = (mlp: ReturnType<typeof initMlp>): number =>
  points.filter((p) => {
    const probs = predict(mlp, p.x);
    return ((probs[1] ?? 0) > (probs[0] ?? 0) ? 1 : 0) === p.label;
  }).length / points.length;

describe("MLP trainer", () => {
  it("learns a separable problem with Adam", () => {
    const mlp = trainMlp(initMlp([4, 8, 2], mulberry32(1)), set, {
      epochs: 5,
      batchSize: 10,
      learningRate: 0.01,
      seed: 2,
    });
    expect(accuracy(mlp)).toBeGreaterThan(0.95);
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const run = (seed: number) =>
      trainMlp(initMlp([4, 8, 2], mulberry32(seed)), set, { epochs: 2, batchSize: 10, learningRate: 0.01, seed });
    expect(Array.from(run(3).layers[0]?.weights ?? [])).toEqual(Array.from(run(3).layers[0]?.weights ?? []));
    expect(Array.from(run(3).layers[0]?.weights ?? [])).not.toEqual(Array.from(run(4).layers[0]?.weights ?? []));
  });

  it("outputs probabilities that sum to one", () => {
    const probs = predict(initMlp([4, 3, 5], mulberry32(9)), [0.1, 0.2, 0.3, 0.4]);
    expect(probs).toHaveLength(5);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});
