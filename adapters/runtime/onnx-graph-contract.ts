import type { onnx as OnnxTypes } from "onnx-proto";
import onnxProto from "onnx-proto";
import type { ModelContract } from "../../core/tasks/task.ts";
import { checkModelContract, ModelContractError, type ModelTensorInfo } from "./model-contract.ts";

const { onnx } = onnxProto;

/** ONNX TensorProto.DataType -> the type names ORT reports (and TensorSpec uses). */
const ELEM_TYPES: Readonly<Record<number, string>> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
};

function tensorInfo(value: OnnxTypes.IValueInfoProto): ModelTensorInfo {
  const name = value.name ?? "";
  const tensor = value.type?.tensorType;
  if (!tensor) return { name, isTensor: false };
  const shape = (tensor.shape?.dim ?? []).map((d): number | string => {
    if (d.dimValue !== undefined && d.dimValue !== null) return Number(d.dimValue);
    return d.dimParam ?? "";
  });
  return { name, isTensor: true, type: ELEM_TYPES[tensor.elemType ?? 0] ?? `onnx-type-${tensor.elemType}`, shape };
}

/**
 * Checks a model's declared graph inputs and outputs against a tensor contract by parsing the ONNX protobuf only
 * (no onnxruntime: the cloud API's Lambda has none, and it never runs a miner's model). Inputs that are also
 * initializers are weights, not feeds, as ORT reports them. The worker still loads the model before serving it.
 */
export function checkOnnxGraphContract(
  bytes: Uint8Array,
  contract: ModelContract,
): { ok: true } | { ok: false; detail: string } {
  let graph: OnnxTypes.IGraphProto | null | undefined;
  try {
    graph = onnx.ModelProto.decode(bytes).graph;
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 200);
    return { ok: false, detail: `not a loadable ONNX model: ${first}` };
  }
  if (!graph || (graph.output ?? []).length === 0) {
    return { ok: false, detail: "not a loadable ONNX model: it has no graph outputs" };
  }
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !weights.has(i.name ?? "")).map(tensorInfo);
  try {
    checkModelContract("model", contract, inputs, (graph.output ?? []).map(tensorInfo));
    return { ok: true };
  } catch (error) {
    if (error instanceof ModelContractError) return { ok: false, detail: error.message };
    throw error;
  }
}
