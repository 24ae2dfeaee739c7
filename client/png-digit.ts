import { PNG } from "pngjs";

/**
 * A 28x28 PNG (grayscale, RGB or RGBA) -> 784 floats in [0,1], row-major, white ink on black as MNIST.
 * Colour pixels are averaged; transparent pixels count as background. Throws on another size.
 */
export function pngToDigitPixels(bytes: Uint8Array): number[] {
  const png = PNG.sync.read(Buffer.from(bytes));
  if (png.width !== 28 || png.height !== 28) throw new Error(`expected a 28x28 image, got ${png.width}x${png.height}`);
  const out: number[] = [];
  for (let i = 0; i < 28 * 28; i++) {
    const r = png.data[i * 4] ?? 0;
    const g = png.data[i * 4 + 1] ?? 0;
    const b = png.data[i * 4 + 2] ?? 0;
    const a = (png.data[i * 4 + 3] ?? 255) / 255;
    out.push(Math.min(1, Math.max(0, ((r + g + b) / 3 / 255) * a)));
  }
  return out;
}
