import ort from "onnxruntime-node";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { toFloat32 } from "./runner-input.ts";

export interface BatchRunner {
  run(inputs: readonly unknown[]): Promise<unknown[]>;
}

/** `classifier`: the whole batch in ONE session.run: [batch, features] -> [batch, classes] probabilities. */
export function classifierRunner(session: ort.InferenceSession, manifest: ExpertManifest): BatchRunner {
  const input = manifest.model.inputs[0];
  const output = manifest.model.outputs[0];
  const features = input?.dims[1];
  const classes = output?.dims[1];
  if (!input || !output || typeof features !== "number" || typeof classes !== "number") {
    throw new Error(
      `${manifest.id}: a classifier manifest needs input [batch, features] and output [batch, classes] with fixed widths`,
    );
  }
  return {
    async run(inputs) {
      if (inputs.length === 0) return [];
      const data = new Float32Array(inputs.length * features);
      inputs.forEach((x, i) => {
        data.set(toFloat32(x, `${manifest.id} input ${i}`, { exact: features }), i * features);
      });
      const result = await session.run({ [input.name]: new ort.Tensor("float32", data, [inputs.length, features]) });
      const probs = result[output.name]?.data;
      if (!(probs instanceof Float32Array) || probs.length !== inputs.length * classes) {
        throw new Error(`${manifest.id}: output "${output.name}" is not float32[${inputs.length},${classes}]`);
      }
      return inputs.map((_, i) => ({ probs: Array.from(probs.subarray(i * classes, (i + 1) * classes)) }));
    },
  };
}
