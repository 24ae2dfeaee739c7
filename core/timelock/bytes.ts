/** Small byte helpers shared by the timelock codecs (little-endian u64 as in arkworks, XOR of equal-length keys). */
import { TimelockError } from "./errors.ts";

const U64_MAX = (1n << 64n) - 1n;

export function u64LE(value: bigint): Uint8Array {
  if (value < 0n || value > U64_MAX) throw new TimelockError("InvalidInput", `u64 out of range: ${value}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

export function u64BE(value: bigint): Uint8Array {
  if (value < 0n || value > U64_MAX) throw new TimelockError("InvalidInput", `u64 out of range: ${value}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, false);
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new TimelockError("InvalidInput", "xor of unequal lengths");
  return a.map((x, i) => x ^ (b[i] ?? 0));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
