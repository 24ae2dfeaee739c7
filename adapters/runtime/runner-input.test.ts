import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../core/tasks/base64.ts";
import { encodePcm16 } from "../../core/tasks/pcm16.ts";
import { pcm16ToFloat32, toFloat32 } from "./runner-input.ts";

describe("runner inputs", () => {
  it("decodes a pcm16 speech job input to float32 samples", () => {
    const out = pcm16ToFloat32({ pcm16: encodePcm16([0, 0.25, -1, 1]) }, "clip", { min: 4 });
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0, 0.25, -1, 1]);
  });

  it("refuses malformed or short pcm16 inputs with a reason", () => {
    expect(() => pcm16ToFloat32({ pcm16: bytesToBase64(new Uint8Array(3)) }, "clip")).toThrow(/clip: .*16-bit/);
    expect(() => pcm16ToFloat32({ pcm16: "%%%" }, "clip")).toThrow(/clip/);
    expect(() => pcm16ToFloat32({ samples: [0] }, "clip")).toThrow(/expected \{pcm16/);
    expect(() => pcm16ToFloat32({ pcm16: encodePcm16([0, 0]) }, "clip", { min: 512 })).toThrow(/at least 512/);
  });

  it("still takes raw samples from in-process callers", () => {
    expect(Array.from(pcm16ToFloat32([0, 0.5], "warm-up"))).toEqual([0, 0.5]);
    expect(() => toFloat32([0, Number.NaN], "x")).toThrow(/finite/);
  });
});
