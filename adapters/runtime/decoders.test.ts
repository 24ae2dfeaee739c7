import { PNG } from "pngjs";
import { describe, expect, it, vi } from "vitest";
import { decodeDigitPng, MAX_PNG_SIDE } from "./decode-png.ts";
import { decodeWav16k, encodeWavPcm16, parseWav } from "./decode-wav.ts";
import { inflatedSize, readPngHeader } from "./png-header.ts";
import { bigDimensionsBomb, deflatedZeros, interlacedBomb, pngFile, secondHeaderBomb } from "./testing/png-bombs.ts";

function png(
  width: number,
  height: number,
  pixel: (x: number, y: number) => [number, number, number, number],
): Uint8Array {
  const img = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const [r, g, b, a] = pixel(x, y);
      const i = (y * width + x) * 4;
      img.data[i] = r;
      img.data[i + 1] = g;
      img.data[i + 2] = b;
      img.data[i + 3] = a;
    }
  return new Uint8Array(PNG.sync.write(img));
}

const inStroke = (x: number, y: number, side: number): boolean =>
  x >= side / 4 && x < side / 2 && y >= side / 4 && y < (3 * side) / 4;

describe("decodeDigitPng", () => {
  it("reads a 28x28 white-on-black digit as MNIST pixels", () => {
    const out = decodeDigitPng(png(28, 28, (x, y) => (inStroke(x, y, 28) ? [255, 255, 255, 255] : [0, 0, 0, 255])));
    expect(out).toHaveLength(784);
    expect(out[10 * 28 + 8]).toBe(1);
    expect(out[0]).toBe(0);
  });

  it("inverts dark ink on paper and downsamples larger pictures", () => {
    const out = decodeDigitPng(png(56, 56, (x, y) => (inStroke(x, y, 56) ? [0, 0, 0, 255] : [255, 255, 255, 255])));
    expect(out[10 * 28 + 8]).toBe(1);
    expect(out[27 * 28 + 27]).toBe(0);
  });

  it("uses alpha as ink on a transparent canvas", () => {
    const out = decodeDigitPng(png(28, 28, (x, y) => (inStroke(x, y, 28) ? [0, 0, 0, 255] : [0, 0, 0, 0])));
    expect(out[10 * 28 + 8]).toBe(1);
    expect(out[0]).toBe(0);
  });

  it("throws on bytes that are not a PNG", () => {
    expect(() => decodeDigitPng(new Uint8Array([1, 2, 3]))).toThrow();
  });
});

describe("decodeDigitPng against decompression bombs", () => {
  it("refuses a 16000x16000 bomb from its header: pngjs never runs", async () => {
    const bomb = await bigDimensionsBomb();
    expect(bomb.length).toBeLessThan(400_000);
    const read = vi.spyOn(PNG.sync, "read");
    try {
      expect(() => decodeDigitPng(bomb)).toThrow(/16000x16000 out of range/);
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  it("refuses a small PNG with a second IHDR claiming 12000x12000 (pngjs would allocate for the last one)", async () => {
    const bomb = await secondHeaderBomb(12_000, 12_000);
    const read = vi.spyOn(PNG.sync, "read");
    try {
      expect(() => decodeDigitPng(bomb)).toThrow(/more than one IHDR/);
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  it("refuses an interlaced 28x28 PNG whose data inflates past its header, before pngjs inflates it", async () => {
    const bomb = await interlacedBomb(64 << 20);
    const read = vi.spyOn(PNG.sync, "read");
    const before = process.memoryUsage().arrayBuffers;
    try {
      expect(() => decodeDigitPng(bomb)).toThrow(/inflates beyond/);
      expect(read).not.toHaveBeenCalled();
      // The capped inflate stops at ~1 KB; pngjs would have held all 64 MB.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
    } finally {
      read.mockRestore();
    }
  });

  it("refuses pictures larger than the bound, accepts the bound", async () => {
    const side = MAX_PNG_SIDE;
    const rows = (w: number, h: number) => deflatedZeros(h * (w + 1));
    expect(() => decodeDigitPng(pngFile({ width: side + 1, height: 1 }, new Uint8Array(8)))).toThrow(/out of range/);
    expect(decodeDigitPng(pngFile({ width: side, height: side }, await rows(side, side)))).toHaveLength(784);
  });

  it("computes the exact inflated size, interlaced or not", () => {
    const h = { width: 28, height: 28, bitDepth: 8, colorType: 0, interlaced: false };
    expect(inflatedSize(h)).toBe(28 * 29);
    // Adam7 of 28x28 gray8, passes (w x h): 4x4, 3x4, 7x3, 7x7, 14x7, 14x14, 28x14; a filter byte per row.
    expect(inflatedSize({ ...h, interlaced: true })).toBe(4 * 5 + 4 * 4 + 3 * 8 + 7 * 8 + 7 * 15 + 14 * 15 + 14 * 29);
    expect(inflatedSize({ ...h, colorType: 6, bitDepth: 16 })).toBe(28 * (1 + 28 * 8));
    expect(readPngHeader(pngFile({ width: 3, height: 2, interlace: 1 }, new Uint8Array(0)))).toEqual({
      width: 3,
      height: 2,
      bitDepth: 8,
      colorType: 0,
      interlaced: true,
    });
    expect(() => readPngHeader(pngFile({ width: 3, height: 2, colorType: 2, bitDepth: 4 }, new Uint8Array(0)))).toThrow(
      /bit depth/,
    );
  });
});

describe("WAV parser", () => {
  const tone = Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin(i / 4));

  it("round-trips 16 kHz PCM16 mono", () => {
    const out = decodeWav16k(encodeWavPcm16(tone));
    expect(out).toHaveLength(1600);
    const worst = Math.max(...out.map((v, i) => Math.abs(v - (tone[i] ?? 0))));
    expect(worst).toBeLessThan(1e-4);
  });

  it("resamples other rates to 16 kHz", () => {
    expect(decodeWav16k(encodeWavPcm16(tone, 8000))).toHaveLength(3200);
  });

  it("reads float32 stereo and down-mixes it", () => {
    const frames = 4;
    const bytes = new Uint8Array(44 + frames * 8);
    const view = new DataView(bytes.buffer);
    bytes.set(new TextEncoder().encode("RIFF"), 0);
    view.setUint32(4, 36 + frames * 8, true);
    bytes.set(new TextEncoder().encode("WAVEfmt "), 8);
    view.setUint32(16, 16, true);
    view.setUint16(20, 3, true);
    view.setUint16(22, 2, true);
    view.setUint32(24, 16000, true);
    view.setUint32(28, 16000 * 8, true);
    view.setUint16(32, 8, true);
    view.setUint16(34, 32, true);
    bytes.set(new TextEncoder().encode("data"), 36);
    view.setUint32(40, frames * 8, true);
    for (let i = 0; i < frames; i++) {
      view.setFloat32(44 + i * 8, 0.5, true);
      view.setFloat32(48 + i * 8, -0.25, true);
    }
    const wav = parseWav(bytes);
    expect(wav.format).toMatchObject({ format: 3, channels: 2, sampleRate: 16000 });
    expect(Array.from(wav.samples)).toEqual([0.125, 0.125, 0.125, 0.125]);
  });

  it("rejects non-WAV bytes and unsupported formats with a reason", () => {
    expect(() => parseWav(new TextEncoder().encode("hello world, not audio"))).toThrow(/RIFF/);
    const eightBit = encodeWavPcm16(tone);
    new DataView(eightBit.buffer).setUint16(34, 8, true);
    expect(() => parseWav(eightBit)).toThrow(/unsupported WAV format/);
    expect(() => parseWav(encodeWavPcm16(tone).subarray(0, 30))).toThrow();
  });

  it("refuses a clip longer than the task takes from its header, before converting a sample", () => {
    // 6 s at 8 kHz: small bytes, but 12 s... of work after resampling; refused from the data length.
    const long = encodeWavPcm16(new Array<number>(6 * 8000).fill(0), 8000);
    expect(() => decodeWav16k(long)).toThrow(/longer than 5 s/);
    expect(decodeWav16k(encodeWavPcm16(new Array<number>(5 * 8000).fill(0), 8000))).toHaveLength(5 * 16000);
  });
});
