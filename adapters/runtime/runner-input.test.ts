import { describe, expect, it } from "vitest";
import { bytesToBase64 } from "../../core/tasks/base64.ts";
import { decodePcm16, encodePcm16 } from "../../core/tasks/pcm16.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
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

describe("pcm16ToFloat32 (the native base64 decoder)", () => {
  it("gives the samples core's decoder gives, and refuses what it refuses", () => {
    const rng = mulberry32(3);
    for (const n of [512, 513, 1001, 80_000]) {
      const text = encodePcm16(Array.from({ length: n }, () => 2 * rng.next() - 1));
      expect(pcm16ToFloat32({ pcm16: text }, "clip")).toEqual(decodePcm16(text));
    }
    const odd = bytesToBase64(Uint8Array.from([1, 2, 3]));
    expect(() => pcm16ToFloat32({ pcm16: odd }, "clip")).toThrow(/not whole 16-bit samples/);
    expect(() => pcm16ToFloat32({ pcm16: "!!not base64!!" }, "clip")).toThrow(/clip: pcm16 is not canonical base64/);
    // Unpadded, or with a character base64 does not have: refused, not decoded around.
    const good = encodePcm16(new Array(601).fill(0.25)); // 1,202 bytes: padded
    expect(() => pcm16ToFloat32({ pcm16: good.replace(/=+$/, "") }, "clip")).toThrow(/canonical/);
    expect(() => pcm16ToFloat32({ pcm16: `${good.slice(0, 8)}*${good.slice(9)}` }, "clip")).toThrow(/canonical/);
  });
});
