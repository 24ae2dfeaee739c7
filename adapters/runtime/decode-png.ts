import { PNG } from "pngjs";
import { DIGIT_PIXELS } from "../../core/tasks/digits.ts";
import { checkPngBounds } from "./png-header.ts";

const SIDE = 28;
/**
 * The task is 28x28; a canvas drawing (280x280, a retina 2x of it) still fits, a photo does not. Checked from the
 * header before anything inflates: at this side the inflated data is at most 512 x 4097 x 8 bytes (~2 MB, RGBA16).
 */
export const MAX_PNG_SIDE = 512;

/**
 * PNG -> 784 values in [0,1], bright ink on a dark background as in MNIST. Any size up to MAX_PNG_SIDE is box-resampled to
 * 28x28.
 * Polarity is guessed from the border: a transparent border means ink = alpha (canvas drawings), a bright border
 * means dark ink on paper, which is inverted.
 */
export function decodeDigitPng(bytes: Uint8Array): number[] {
  // Header and inflated size first: pngjs would inflate (and allocate RGBA for) whatever the header claims.
  checkPngBounds(bytes, { maxSide: MAX_PNG_SIDE });
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { width, height, data } = png;
  const lum = new Float64Array(width * height);
  const alpha = new Float64Array(width * height);
  for (let i = 0; i < width * height; i++) {
    const r = data[i * 4] ?? 0;
    const g = data[i * 4 + 1] ?? 0;
    const b = data[i * 4 + 2] ?? 0;
    lum[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    alpha[i] = (data[i * 4 + 3] ?? 255) / 255;
  }
  const border = borderIndices(width, height);
  const borderAlpha = mean(border.map((i) => alpha[i] ?? 1));
  let ink: Float64Array;
  if (borderAlpha < 0.5) {
    ink = alpha;
  } else {
    const bright = mean(border.map((i) => lum[i] ?? 0)) > 0.5;
    ink = lum.map((v, i) => (bright ? 1 - v : v) * (alpha[i] ?? 1));
  }
  const out = boxResample(ink, width, height, SIDE, SIDE);
  if (out.length !== DIGIT_PIXELS) throw new Error("resample failed");
  return out.map((v) => Math.round(Math.max(0, Math.min(1, v)) * 1000) / 1000);
}

function borderIndices(w: number, h: number): number[] {
  const out: number[] = [];
  for (let x = 0; x < w; x++) out.push(x, (h - 1) * w + x);
  for (let y = 1; y < h - 1; y++) out.push(y * w, y * w + w - 1);
  return out;
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Area-weighted resampling: every output pixel averages the source area it covers (works both up and down). */
function boxResample(src: Float64Array, w: number, h: number, ow: number, oh: number): number[] {
  const out = new Array<number>(ow * oh).fill(0);
  const sx = w / ow;
  const sy = h / oh;
  for (let oy = 0; oy < oh; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < ow; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      let sum = 0;
      for (let y = Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
          const wx = Math.min(x + 1, x1) - Math.max(x, x0);
          sum += wx * wy * (src[y * w + x] ?? 0);
        }
      }
      out[oy * ow + ox] = sum / (sx * sy);
    }
  }
  return out;
}
