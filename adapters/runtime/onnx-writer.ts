import type { onnx as OnnxTypes } from "onnx-proto";
import onnxProto from "onnx-proto";
import type { Mlp } from "../../core/experts/train/mlp.ts";

const { onnx } = onnxProto;
const FLOAT = 1;

export interface MlpOnnxOptions {
  /** Name of the input tensor (float32[batch, inputs]). */
  input?: string;
  /** Name of the output tensor (float32[batch, classes], softmax probabilities). */
  output?: string;
  /** Written as model metadata; must be deterministic (no timestamps) so that files are byte-identical per seed. */
  metadata?: Record<string, string>;
}

/**
 * Serialises an MLP as Gemm -> Relu -> ... -> Gemm -> Softmax(axis=-1): IR 8, opset 13, float32 initializers as
 * little-endian rawData, dynamic `batch` dimension. Same weights in, same bytes out.
 */
export function mlpToOnnx(mlp: Mlp, opts: MlpOnnxOptions = {}): Uint8Array {
  const input = opts.input ?? "x";
  const output = opts.output ?? "probs";
  const nodes: OnnxTypes.INodeProto[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  let current = input;
  mlp.layers.forEach((layer, l) => {
    const w = `W${l + 1}`;
    const b = `b${l + 1}`;
    initializers.push(floatTensor(w, [layer.inputs, layer.outputs], layer.weights));
    initializers.push(floatTensor(b, [layer.outputs], layer.bias));
    const gemmOut = `gemm${l + 1}`;
    nodes.push({ opType: "Gemm", name: `Gemm${l + 1}`, input: [current, w, b], output: [gemmOut] });
    current = gemmOut;
    if (l < mlp.layers.length - 1) {
      const reluOut = `relu${l + 1}`;
      nodes.push({ opType: "Relu", name: `Relu${l + 1}`, input: [current], output: [reluOut] });
      current = reluOut;
    }
  });
  nodes.push({
    opType: "Softmax",
    name: "Softmax",
    input: [current],
    output: [output],
    attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: -1 }],
  });
  const first = mlp.layers[0];
  const last = mlp.layers[mlp.layers.length - 1];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "intelligence-market",
    opsetImport: [{ domain: "", version: 13 }],
    metadataProps: Object.entries(opts.metadata ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value })),
    graph: {
      name: "mlp",
      node: nodes,
      initializer: initializers,
      input: [valueInfo(input, first?.inputs ?? 0)],
      output: [valueInfo(output, last?.outputs ?? 0)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function floatTensor(name: string, dims: number[], values: Float64Array): OnnxTypes.ITensorProto {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => {
    view.setFloat32(i * 4, v, true);
  });
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function valueInfo(name: string, width: number): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: "batch" }, { dimValue: width }] } } },
  };
}
