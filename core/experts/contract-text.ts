import type { ModelContract } from "../tasks/task.ts";
import type { TensorSpec } from "./manifest.ts";

/** `"x" float32[?,784]`: a tensor as the docs and the errors name it. */
export function formatTensor(spec: TensorSpec): string {
  return `"${spec.name}" ${spec.type}[${spec.dims.map((d) => (d === null ? "?" : String(d))).join(",")}]`;
}

/** `inputs "x" float32[?,784] -> outputs "probs" float32[?,10]`. */
export function formatSpecText(contract: ModelContract): string {
  return `inputs ${contract.inputs.map(formatTensor).join(", ")} -> outputs ${contract.outputs.map(formatTensor).join(", ")}`;
}
