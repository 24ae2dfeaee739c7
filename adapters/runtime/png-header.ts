import { inflateSync } from "node:zlib";

/**
 * Bounds a PNG before anything inflates it (a 332 KB file can claim 16000x16000 pixels, and an interlaced one
 * can inflate 1.4 MB into gigabytes: pngjs inflates interlaced data without a cap). Reads the chunk headers only,
 * checks IHDR against the caller's bound, then inflates the IDAT stream with a hard output cap equal to the exact
 * size the header implies. Only then may a full decoder run: its own inflate cannot produce more than that.
 */

export interface PngHeader {
  readonly width: number;
  readonly height: number;
  readonly bitDepth: number;
  readonly colorType: number;
  readonly interlaced: boolean;
}

export interface PngBounds {
  /** Largest width and height accepted. */
  readonly maxSide: number;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel of each colour type, with the bit depths PNG allows for it. */
const COLOR_TYPES: Readonly<Record<number, { channels: number; depths: readonly number[] }>> = {
  0: { channels: 1, depths: [1, 2, 4, 8, 16] },
  2: { channels: 3, depths: [8, 16] },
  3: { channels: 1, depths: [1, 2, 4, 8] },
  4: { channels: 2, depths: [8, 16] },
  6: { channels: 4, depths: [8, 16] },
};
/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** IHDR fields; throws on anything that is not a well-formed PNG header. Reads 33 bytes, allocates nothing. */
export function readPngHeader(bytes: Uint8Array): PngHeader {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new Error("not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8) !== 13 || chunkType(bytes, 12) !== "IHDR") throw new Error("PNG without an IHDR header");
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const bitDepth = bytes[24] ?? 0;
  const colorType = bytes[25] ?? 0;
  const interlace = bytes[28] ?? 0;
  const color = COLOR_TYPES[colorType];
  if (!color?.depths.includes(bitDepth)) throw new Error("PNG colour type or bit depth not supported");
  if (bytes[26] !== 0 || bytes[27] !== 0 || interlace > 1)
    throw new Error("PNG compression, filter or interlace method not supported");
  return { width, height, bitDepth, colorType, interlaced: interlace === 1 };
}

/** Bytes the inflated image data must have: one filter byte per row (per pass when interlaced) plus the pixels. */
export function inflatedSize(h: PngHeader): number {
  const bits = (COLOR_TYPES[h.colorType]?.channels ?? 4) * h.bitDepth;
  const rows = (w: number, rowsCount: number) =>
    w === 0 || rowsCount === 0 ? 0 : rowsCount * (1 + Math.ceil((w * bits) / 8));
  if (!h.interlaced) return rows(h.width, h.height);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    total += rows(Math.max(0, Math.ceil((h.width - x0) / dx)), Math.max(0, Math.ceil((h.height - y0) / dy)));
  }
  return total;
}

/**
 * Checks the header against `bounds` and that the compressed image data inflates to no more than the header
 * implies (inflating with that cap: a bomb stops at the cap). Throws with a short reason; returns the header.
 */
export function checkPngBounds(bytes: Uint8Array, bounds: PngBounds): PngHeader {
  const header = readPngHeader(bytes);
  if (header.width < 1 || header.height < 1 || header.width > bounds.maxSide || header.height > bounds.maxSide) {
    throw new Error(`image size ${header.width}x${header.height} out of range (at most ${bounds.maxSide} per side)`);
  }
  const expected = inflatedSize(header);
  const idat = collectIdat(bytes);
  try {
    inflateSync(idat, { maxOutputLength: Math.max(1, expected) });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new Error("PNG image data inflates beyond what its header declares");
    }
    throw new Error("PNG image data is not a valid zlib stream");
  }
  return header;
}

/**
 * The IDAT chunks' data, concatenated (bounded by the input's size); walks chunk headers without CRC checks and
 * refuses a second IHDR.
 */
function collectIdat(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = view.getUint32(at);
    const type = chunkType(bytes, at + 4);
    const end = at + 12 + length;
    if (end > bytes.length) throw new Error("PNG chunk runs past the end of the file");
    // pngjs takes the last IHDR it meets and sizes its buffers from it: a second one would bypass the bound above.
    if (type === "IHDR" && at !== 8) throw new Error("PNG with more than one IHDR header");
    if (type === "IDAT") {
      parts.push(bytes.subarray(at + 8, at + 8 + length));
      total += length;
    }
    if (type === "IEND") break;
    at = end;
  }
  if (total === 0) throw new Error("PNG without image data");
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}
