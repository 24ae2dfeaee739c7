import { crc32, createDeflate } from "node:zlib";

/**
 * Decompression bombs as attackers build them (valid CRCs, a valid zlib stream of zeros), for the decoder and
 * API tests. Zeros deflate about 1000:1, so the streams are generated in chunks and never held inflated.
 */

export interface PngHeaderFields {
  readonly width: number;
  readonly height: number;
  readonly bitDepth?: number;
  /** 0 grayscale, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  readonly colorType?: number;
  readonly interlace?: 0 | 1;
}

/** A zlib stream that inflates to `size` zero bytes. */
export async function deflatedZeros(size: number): Promise<Uint8Array> {
  const deflate = createDeflate({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  deflate.on("data", (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on("end", resolve);
    deflate.on("error", reject);
  });
  const chunk = Buffer.alloc(Math.min(size, 4 << 20));
  for (let left = size; left > 0; left -= chunk.length) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    if (!deflate.write(part)) await new Promise((r) => deflate.once("drain", r));
  }
  deflate.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

/** A PNG file: signature, IHDR with these fields, one IDAT holding `idat`, IEND. */
export function pngFile(h: PngHeaderFields, idat: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, h.width);
  view.setUint32(4, h.height);
  ihdr[8] = h.bitDepth ?? 8;
  ihdr[9] = h.colorType ?? 0;
  ihdr[12] = h.interlace ?? 0;
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

/** The 16000x16000 grayscale bomb of the attack report: ~250 KB that inflate to 256 MB (1 GB as RGBA). */
export async function bigDimensionsBomb(): Promise<Uint8Array> {
  return pngFile({ width: 16_000, height: 16_000 }, await deflatedZeros(16_000 * 16_001));
}

/** An interlaced 28x28 PNG whose data inflates to `inflated` bytes (pngjs inflates interlaced data uncapped). */
export async function interlacedBomb(inflated = 64 << 20): Promise<Uint8Array> {
  return pngFile({ width: 28, height: 28, interlace: 1 }, await deflatedZeros(inflated));
}

/**
 * A valid small PNG with a second IHDR (claiming `width` x `height`) right after the first: the bounds check reads
 * the first, while pngjs takes the last one it sees and allocates for it.
 */
export async function secondHeaderBomb(width = 12_000, height = 12_000): Promise<Uint8Array> {
  const small = pngFile({ width: 28, height: 28 }, await deflatedZeros(28 * 29));
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8;
  return concat([small.subarray(0, 33), chunk("IHDR", ihdr), small.subarray(33)]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
