import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { pngToDigitPixels } from "../client/png-digit.ts";

function png(width: number, height: number, ink: (x: number, y: number) => number): Uint8Array {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const v = ink(x, y);
      image.data[i] = v;
      image.data[i + 1] = v;
      image.data[i + 2] = v;
      image.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(image);
}

describe("PNG to digit pixels", () => {
  it("maps a 28x28 image row-major to [0,1]", () => {
    const pixels = pngToDigitPixels(png(28, 28, (x, y) => (x === 3 && y === 2 ? 255 : 0)));
    expect(pixels).toHaveLength(784);
    expect(pixels[2 * 28 + 3]).toBe(1);
    expect(pixels.reduce((s, p) => s + p, 0)).toBe(1);
  });

  it("refuses other sizes", () => {
    expect(() => pngToDigitPixels(png(10, 10, () => 0))).toThrow(/28x28/);
  });
});
