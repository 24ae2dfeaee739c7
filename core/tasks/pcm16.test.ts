import { describe, expect, it } from "vitest";
import { base64ByteLength, base64Length, base64ToBytes, bytesToBase64 } from "./base64.ts";
import { decodePcm16, encodePcm16, pcm16SampleCount } from "./pcm16.ts";
import { mulberry32 } from "./prng.ts";

const LSB = 1 / 32767;

describe("base64", () => {
  it("round-trips bytes of every length modulo 3, across encoder chunks", () => {
    const rng = mulberry32(5);
    for (const n of [0, 1, 2, 3, 4, 5, 0x2000, 0x2001, 3 * 0x2000 + 2]) {
      const bytes = Uint8Array.from({ length: n }, () => rng.int(256));
      const text = bytesToBase64(bytes);
      expect(text.length).toBe(base64Length(n));
      expect(base64ByteLength(text)).toBe(n);
      expect(base64ToBytes(text)).toEqual(bytes);
    }
    expect(bytesToBase64(new TextEncoder().encode("Man"))).toBe("TWFu");
  });
});

describe("pcm16", () => {
  it("round-trips samples within one quantisation step, for odd and even lengths", () => {
    const rng = mulberry32(11);
    for (const n of [0, 1, 2, 3, 511, 512, 513, 1001]) {
      const samples = Array.from({ length: n }, () => 2 * rng.next() - 1);
      const text = encodePcm16(samples);
      expect(pcm16SampleCount(text)).toBe(n);
      const back = decodePcm16(text);
      expect(back).toHaveLength(n);
      back.forEach((v, i) => {
        expect(Math.abs(v - (samples[i] ?? 0))).toBeLessThanOrEqual(LSB);
      });
      // Decoded samples re-encode to the same bytes: no drift when a clip is forwarded.
      expect(encodePcm16(back)).toBe(text);
    }
  });

  it("writes little-endian signed 16-bit samples", () => {
    const bytes = base64ToBytes(encodePcm16([0.5, -0.5, 1, -1, 0]));
    expect(Array.from(bytes)).toEqual([0x00, 0x40, 0x00, 0xc0, 0xff, 0x7f, 0x00, 0x80, 0x00, 0x00]);
  });

  it("clips at ±1 and turns non-finite samples into silence", () => {
    const back = decodePcm16(encodePcm16([1, -1, 1.7, -3, Number.NaN, Number.POSITIVE_INFINITY]));
    expect(Array.from(back)).toEqual([1, -1, 1, -1, 0, 0]);
  });

  it("rejects a base64 string whose byte length is odd, and invalid base64", () => {
    const odd = bytesToBase64(Uint8Array.from([1, 2, 3]));
    expect(pcm16SampleCount(odd)).toBe(1.5);
    expect(() => decodePcm16(odd)).toThrow(/not whole 16-bit samples/);
    expect(() => decodePcm16("!!not base64!!")).toThrow();
  });
});
