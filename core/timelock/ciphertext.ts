/**
 * The ark (CanonicalSerialize, compressed) layout of tle's `TLECiphertext<TinyBLS381>`, which is what subtensor
 * deserialises from the commit bytes (TIMELOCK.md §1.2): U, Vec v, Vec w, Vec body(= AESOutput{Vec ct, Vec nonce}),
 * Vec cipher_suite, every Vec prefixed by its length as u64 little-endian.
 */
import { concatBytes, u64LE } from "./bytes.ts";
import { CIPHER_SUITE, G2_BYTES, KEY_BYTES, NONCE_BYTES } from "./constants.ts";
import { TimelockError } from "./errors.ts";

export interface TimelockCiphertext {
  /** U, compressed G2 (96 bytes). */
  u: Uint8Array;
  v: Uint8Array;
  w: Uint8Array;
  /** AES-256-GCM output: ciphertext followed by the 16-byte tag. */
  body: Uint8Array;
  nonce: Uint8Array;
  /** Written as `AES_GCM_`; never checked by the chain. */
  cipherSuite: Uint8Array;
}

function arkVec(bytes: Uint8Array): Uint8Array {
  return concatBytes(u64LE(BigInt(bytes.length)), bytes);
}

export function serializeTimelockCiphertext(ct: Omit<TimelockCiphertext, "cipherSuite">): Uint8Array {
  const aesOutput = concatBytes(arkVec(ct.body), arkVec(ct.nonce));
  return concatBytes(ct.u, arkVec(ct.v), arkVec(ct.w), arkVec(aesOutput), arkVec(CIPHER_SUITE));
}

/** Reads ark fields in order; any shortfall is a MalformedCiphertext, never an out-of-bounds read. */
class ArkReader {
  private offset = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  take(n: number, field: string): Uint8Array {
    if (n > this.bytes.length - this.offset) {
      throw new TimelockError("MalformedCiphertext", `${this.what}: truncated at ${field}`);
    }
    const out = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  vec(field: string): Uint8Array {
    const prefix = this.take(8, `${field} length`);
    const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
    if (length > BigInt(this.bytes.length - this.offset)) {
      throw new TimelockError("MalformedCiphertext", `${this.what}: ${field} claims ${length} bytes, fewer remain`);
    }
    return this.take(Number(length), field);
  }
}

/**
 * Parses like the chain does: trailing bytes (after the struct, or inside body after the nonce) are ignored, the
 * cipher suite is not checked, and v, w and the nonce must have the lengths tld needs. U is returned as bytes; its
 * curve and subgroup checks happen when it is decoded for decryption.
 */
export function parseTimelockCiphertext(bytes: Uint8Array): TimelockCiphertext {
  const reader = new ArkReader(bytes, "ciphertext");
  const u = reader.take(G2_BYTES, "U");
  const v = reader.vec("v");
  const w = reader.vec("w");
  const bodyReader = new ArkReader(reader.vec("body"), "ciphertext body");
  const body = bodyReader.vec("AES ciphertext");
  const nonce = bodyReader.vec("nonce");
  const cipherSuite = reader.vec("cipher suite");
  if (v.length !== KEY_BYTES) throw new TimelockError("MalformedCiphertext", `v is ${v.length} bytes, expected 32`);
  if (w.length !== KEY_BYTES) throw new TimelockError("MalformedCiphertext", `w is ${w.length} bytes, expected 32`);
  if (nonce.length !== NONCE_BYTES) {
    throw new TimelockError("MalformedCiphertext", `nonce is ${nonce.length} bytes, expected 12`);
  }
  return { u, v, w, body, nonce, cipherSuite };
}
