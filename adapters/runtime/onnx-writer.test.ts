import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import { initMlp, roundToFloat32 } from "../../core/experts/train/mlp.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import { mlpToOnnx } from "./onnx-writer.ts";

const { onnx } = onnxProto;

describe("mlpToOnnx", () => {
  const mlp = roundToFloat32(initMlp([784, 16, 10], mulberry32(3)));

  it("writes Gemm -> Relu -> Gemm -> Softmax at IR 8 / opset 13 with a dynamic batch", () => {
    const model = onnx.ModelProto.decode(mlpToOnnx(mlp, { metadata: { expert: "t" } }));
    expect(Number(model.irVersion)).toBe(8);
    expect(Number(model.opsetImport[0]?.version)).toBe(13);
    expect(model.graph?.node?.map((n) => n.opType)).toEqual(["Gemm", "Relu", "Gemm", "Softmax"]);
    const input = model.graph?.input?.[0];
    expect(input?.name).toBe("x");
    expect(input?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue))).toEqual(["batch", 784]);
    expect(model.graph?.output?.[0]?.name).toBe("probs");
    const w1 = model.graph?.initializer?.find((t) => t.name === "W1");
    expect(w1?.rawData?.length).toBe(784 * 16 * 4);
    const first = new DataView((w1?.rawData ?? new Uint8Array(4)).buffer, w1?.rawData?.byteOffset).getFloat32(0, true);
    expect(first).toBe(mlp.layers[0]?.weights[0]);
  });

  it("is byte-identical for identical weights", () => {
    expect(mlpToOnnx(mlp)).toEqual(mlpToOnnx(roundToFloat32(initMlp([784, 16, 10], mulberry32(3)))));
  });
});
