import { hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { concatBytes, u64LE } from "./bytes.ts";
import { parseTimelockCiphertext, serializeTimelockCiphertext } from "./ciphertext.ts";
import { TimelockError } from "./errors.ts";
import { KAT_A } from "./known-answers.ts";

const kat = hexToBytes(KAT_A.ciphertextHex);
const parts = parseTimelockCiphertext(kat);

function malformed(bytes: Uint8Array): string {
  try {
    parseTimelockCiphertext(bytes);
    return "accepted";
  } catch (error) {
    return error instanceof TimelockError ? error.code : "other error";
  }
}

/** Re-serialises with arbitrary part lengths, which serializeTimelockCiphertext itself does not police. */
function withParts(over: Partial<typeof parts>): Uint8Array {
  return serializeTimelockCiphertext({ ...parts, ...over });
}

describe("parseTimelockCiphertext", () => {
  it("round-trips the KAT-A bytes", () => {
    expect(serializeTimelockCiphertext(parts)).toEqual(kat);
    expect(parts.u.length).toBe(96);
    expect(parts.v.length).toBe(32);
    expect(parts.w.length).toBe(32);
  });

  it("rejects v or w that are not 32 bytes and a nonce that is not 12", () => {
    expect(malformed(withParts({ v: parts.v.slice(0, 31) }))).toBe("MalformedCiphertext");
    expect(malformed(withParts({ v: concatBytes(parts.v, Uint8Array.of(0)) }))).toBe("MalformedCiphertext");
    expect(malformed(withParts({ w: parts.w.slice(0, 16) }))).toBe("MalformedCiphertext");
    expect(malformed(withParts({ nonce: parts.nonce.slice(0, 11) }))).toBe("MalformedCiphertext");
    expect(malformed(withParts({ nonce: new Uint8Array(16) }))).toBe("MalformedCiphertext");
  });

  it("rejects truncation anywhere and length prefixes that overrun the input", () => {
    for (const cut of [0, 50, 96, 103, 150, 190, 230, kat.length - 1]) {
      expect(malformed(kat.slice(0, cut))).toBe("MalformedCiphertext");
    }
    const huge = kat.slice();
    huge.set(u64LE(1n << 62n), 96);
    expect(malformed(huge)).toBe("MalformedCiphertext");
  });

  it("ignores trailing bytes and does not check the cipher suite, as the chain does", () => {
    expect(malformed(concatBytes(kat, Uint8Array.of(1, 2, 3)))).toBe("accepted");
    const renamed = kat.slice();
    renamed[renamed.length - 1] = 0x41;
    expect(malformed(renamed)).toBe("accepted");
  });
});
