/** The few SCALE pieces the weights payload needs: compact lengths, u16/u64 little-endian, Vec<u8>/Vec<u16>. */
import { concatBytes } from "./bytes.ts";
import { TimelockError } from "./errors.ts";

export function encodeCompactLength(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 30) {
    throw new TimelockError("InvalidInput", `compact length out of range: ${n}`);
  }
  if (n < 1 << 6) return Uint8Array.of(n << 2);
  if (n < 1 << 14) return Uint8Array.of(((n << 2) | 0b01) & 0xff, n >> 6);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, ((n << 2) | 0b10) >>> 0, true);
  return out;
}

export function encodeU16Vec(values: readonly number[]): Uint8Array {
  const body = new Uint8Array(values.length * 2);
  const view = new DataView(body.buffer);
  values.forEach((v, i) => {
    view.setUint16(i * 2, v, true);
  });
  return concatBytes(encodeCompactLength(values.length), body);
}

export function encodeBytesVec(bytes: Uint8Array): Uint8Array {
  return concatBytes(encodeCompactLength(bytes.length), bytes);
}

/** Cursor that decodes like parity-scale-codec: canonical compact only, reads past the end are errors. */
export class ScaleReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  private fail(message: string): never {
    throw new TimelockError("MalformedPayload", message);
  }

  private byteAt(i: number): number {
    const b = this.bytes[this.offset + i];
    if (b === undefined) this.fail("payload truncated");
    return b;
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.offset) this.fail("payload truncated");
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  compactLength(): number {
    const first = this.byteAt(0);
    switch (first & 0b11) {
      case 0b00:
        this.offset += 1;
        return first >> 2;
      case 0b01: {
        const n = (first | (this.byteAt(1) << 8)) >> 2;
        if (n < 1 << 6) this.fail("non-canonical compact length");
        this.offset += 2;
        return n;
      }
      case 0b10: {
        const n = (first | (this.byteAt(1) << 8) | (this.byteAt(2) << 16) | (this.byteAt(3) << 24)) >>> 2;
        if (n < 1 << 14) this.fail("non-canonical compact length");
        this.offset += 4;
        return n;
      }
      default: {
        // Big-integer mode; a Vec length is a u32, so only the 4-byte form is legal.
        if (first >> 2 !== 0) this.fail("compact length exceeds u32");
        const raw = this.take(5);
        const n = new DataView(raw.buffer, raw.byteOffset + 1, 4).getUint32(0, true);
        if (n < 2 ** 30) this.fail("non-canonical compact length");
        return n;
      }
    }
  }

  bytesVec(): Uint8Array {
    return this.take(this.compactLength());
  }

  u16Vec(): number[] {
    const n = this.compactLength();
    const raw = this.take(n * 2);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
    return Array.from({ length: n }, (_, i) => view.getUint16(i * 2, true));
  }

  u64(): bigint {
    const raw = this.take(8);
    return new DataView(raw.buffer, raw.byteOffset, 8).getBigUint64(0, true);
  }
}
