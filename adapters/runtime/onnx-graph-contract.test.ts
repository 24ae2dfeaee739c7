import { describe, expect, it } from "vitest";
import { initMlp, roundToFloat32 } from "../../core/experts/train/mlp.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import { checkOnnxGraphContract } from "./onnx-graph-contract.ts";
import { mlpToOnnx } from "./onnx-writer.ts";

describe("checkOnnxGraphContract", () => {
  const model = mlpToOnnx(roundToFloat32(initMlp([784, 16, 10], mulberry32(3))));
  const contract = (inputs: number) => ({
    inputs: [{ name: "x", type: "float32" as const, dims: [null, inputs] }],
    outputs: [{ name: "probs", type: "float32" as const, dims: [null, 10] }],
  });

  it("accepts a model whose feeds (initializers left out) and outputs meet the contract", () => {
    expect(checkOnnxGraphContract(model, contract(784))).toEqual({ ok: true });
  });

  it("names the offending tensor and the expected shape", () => {
    expect(checkOnnxGraphContract(model, contract(100))).toEqual({
      ok: false,
      detail: 'model: input tensor "x" is float32[batch,784]; expected float32[?,100]',
    });
  });

  it("refuses bytes that are no ONNX model", () => {
    const verdict = checkOnnxGraphContract(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), contract(784));
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? "" : verdict.detail).toMatch(/^not a loadable ONNX model/);
    expect(checkOnnxGraphContract(new TextEncoder().encode("not an onnx"), contract(784)).ok).toBe(false);
  });
});
