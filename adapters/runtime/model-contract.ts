import type { TensorSpec } from "../../core/experts/manifest.ts";
import type { ModelContract } from "../../core/tasks/task.ts";

/** What ORT reports about one input or output (InferenceSession.inputMetadata / outputMetadata). */
export interface ModelTensorInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

export class ModelContractError extends Error {
  override readonly name = "ModelContractError";
}

export function formatSpec(spec: TensorSpec): string {
  return `${spec.type}[${spec.dims.map((d) => (d === null ? "?" : String(d))).join(",")}]`;
}

function formatActual(info: ModelTensorInfo): string {
  const dims = (info.shape ?? []).map((d) => (typeof d === "number" && d >= 0 ? String(d) : String(d) || "?"));
  return `${info.type ?? "non-tensor"}[${dims.join(",")}]`;
}

/** A dimension the model leaves open (symbolic name, empty name or -1). */
function isDynamic(dim: number | string | undefined): boolean {
  return typeof dim === "string" || (typeof dim === "number" && dim < 0);
}

function mismatch(spec: TensorSpec, info: ModelTensorInfo): boolean {
  if (!info.isTensor || info.type !== spec.type) return true;
  const shape = info.shape ?? [];
  if (shape.length !== spec.dims.length) return true;
  return spec.dims.some((want, i) => {
    const have = shape[i];
    // A dynamic model dimension can take any fixed size we feed; a dimension we leave open (batch) must be dynamic
    // in the model too, or batching would fail at run time.
    if (want === null) return !isDynamic(have);
    return !isDynamic(have) && have !== want;
  });
}

/**
 * Checks a model's inputs and outputs against a tensor contract. Throws ModelContractError naming the first
 * offending tensor and the expected type and shape, e.g. `input tensor "x" is float32[?,100]; expected float32[?,784]`.
 */
export function checkModelContract(
  label: string,
  contract: ModelContract,
  inputs: readonly ModelTensorInfo[],
  outputs: readonly ModelTensorInfo[],
): void {
  for (const [kind, specs, infos] of [
    ["input", contract.inputs, inputs],
    ["output", contract.outputs, outputs],
  ] as const) {
    for (const spec of specs) {
      const info = infos.find((t) => t.name === spec.name);
      if (!info) {
        const names = infos.map((t) => `"${t.name}"`).join(", ");
        throw new ModelContractError(
          `${label}: missing ${kind} tensor "${spec.name}" (expected ${formatSpec(spec)}); the model has ${kind}s ${names || "none"}`,
        );
      }
      if (mismatch(spec, info)) {
        throw new ModelContractError(
          `${label}: ${kind} tensor "${spec.name}" is ${formatActual(info)}; expected ${formatSpec(spec)}`,
        );
      }
    }
  }
  const extra = inputs.filter((t) => !contract.inputs.some((s) => s.name === t.name));
  if (extra.length > 0) {
    throw new ModelContractError(
      `${label}: unexpected input tensor "${extra[0]?.name}" (the contract feeds only ${contract.inputs.map((s) => `"${s.name}"`).join(", ")})`,
    );
  }
}
