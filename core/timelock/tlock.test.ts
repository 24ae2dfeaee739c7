import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { parseTimelockCiphertext } from "./ciphertext.ts";
import { QUICKNET } from "./constants.ts";
import { TimelockError, type TimelockErrorCode } from "./errors.ts";
import { gtToArkBytes } from "./gt-bytes.ts";
import { ibeEncrypt } from "./ibe.ts";
import { KAT_A, QUICKNET_SIGNATURES } from "./known-answers.ts";
import { tlockDecrypt, tlockEncrypt } from "./tlock.ts";

const pk = hexToBytes(QUICKNET.publicKeyHex);
const sig1000 = hexToBytes(QUICKNET_SIGNATURES[1000]);
const sig2000 = hexToBytes(QUICKNET_SIGNATURES[2000]);
const katArgs = {
  publicKeyG2: pk,
  round: KAT_A.round,
  payload: new TextEncoder().encode(KAT_A.plaintext),
  esk: hexToBytes(KAT_A.eskHex),
  sigma: hexToBytes(KAT_A.sigmaHex),
  nonce: hexToBytes(KAT_A.nonceHex),
};
const katCiphertext = hexToBytes(KAT_A.ciphertextHex);

function codeOf(fn: () => unknown): TimelockErrorCode | "no error" | "other error" {
  try {
    fn();
    return "no error";
  } catch (error) {
    return error instanceof TimelockError ? error.code : "other error";
  }
}

function flipBit(bytes: Uint8Array, index: number, mask: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] ?? 0) ^ mask;
  return copy;
}

describe("KAT-A (round 1000, esk 0x02.., sigma 0x01.., nonce 0x03..)", () => {
  const ibe = ibeEncrypt(pk, KAT_A.round, katArgs.esk, katArgs.sigma);

  it("reproduces the IBE intermediates r, H2, H4 and the ark GT bytes", () => {
    expect(ibe.r.toString(16).padStart(64, "0")).toBe(KAT_A.rHex);
    expect(bytesToHex(ibe.h2)).toBe(KAT_A.h2Hex);
    expect(bytesToHex(ibe.h4)).toBe(KAT_A.h4Hex);
    const gtBytes = gtToArkBytes(ibe.gt);
    expect(gtBytes.length).toBe(576);
    expect(bytesToHex(gtBytes.slice(0, 48))).toBe(KAT_A.gtFirst48Hex);
  });

  it("produces the ciphertext byte for byte", () => {
    const ct = tlockEncrypt(katArgs);
    expect(ct.length).toBe(katArgs.payload.length + 244);
    expect(bytesToHex(sha256(ct))).toBe(KAT_A.ciphertextSha256Hex);
    expect(bytesToHex(ct)).toBe(KAT_A.ciphertextHex);
  });

  it("decrypts with the real round-1000 signature", () => {
    expect(new TextDecoder().decode(tlockDecrypt(sig1000, katCiphertext))).toBe(KAT_A.plaintext);
  });
});

describe("tlockEncrypt with random esk/sigma/nonce", () => {
  it("round-trips and never repeats its randomness", () => {
    const payload = new TextEncoder().encode("weights");
    const a = tlockEncrypt({ publicKeyG2: pk, round: 1000n, payload });
    const b = tlockEncrypt({ publicKeyG2: pk, round: 1000n, payload });
    expect(bytesToHex(a)).not.toBe(bytesToHex(b));
    expect(tlockDecrypt(sig1000, a)).toEqual(payload);
    expect(tlockDecrypt(sig1000, b)).toEqual(payload);
  });

  it("refuses fixed values of the wrong length and a public key that is not a G2 point", () => {
    expect(codeOf(() => tlockEncrypt({ ...katArgs, esk: new Uint8Array(31) }))).toBe("InvalidInput");
    expect(codeOf(() => tlockEncrypt({ ...katArgs, nonce: new Uint8Array(16) }))).toBe("InvalidInput");
    expect(codeOf(() => tlockEncrypt({ ...katArgs, publicKeyG2: flipBit(pk, 50, 1) }))).toBe("InvalidInput");
  });
});

describe("negative cases (TIMELOCK.md §7f)", () => {
  it("a signature of another round fails the IBE check", () => {
    expect(codeOf(() => tlockDecrypt(sig2000, katCiphertext))).toBe("InvalidSignature");
  });

  it("a bit flip in v fails the IBE check", () => {
    expect(codeOf(() => tlockDecrypt(sig1000, flipBit(katCiphertext, 104 + 5, 0x10)))).toBe("InvalidSignature");
  });

  it("a bit flip in w fails the IBE check", () => {
    expect(codeOf(() => tlockDecrypt(sig1000, flipBit(katCiphertext, 144, 0x01)))).toBe("InvalidSignature");
  });

  it("flipping U's sign bit gives -U, a valid point that fails the IBE check", () => {
    expect(codeOf(() => tlockDecrypt(sig1000, flipBit(katCiphertext, 0, 0x20)))).toBe("InvalidSignature");
  });

  it("a bit flip that takes U off the curve is a malformed ciphertext", () => {
    expect(codeOf(() => tlockDecrypt(sig1000, flipBit(katCiphertext, 95, 0x01)))).toBe("MalformedCiphertext");
  });

  it("a bit flip in the GCM tag or the AES ciphertext fails AES", () => {
    const tagStart = 192 + katArgs.payload.length;
    expect(codeOf(() => tlockDecrypt(sig1000, flipBit(katCiphertext, tagStart + 3, 0x80)))).toBe("DecryptionError");
    expect(codeOf(() => tlockDecrypt(sig1000, flipBit(katCiphertext, 192, 0x01)))).toBe("DecryptionError");
  });

  it("a signature that is not a G1 point is an invalid signature", () => {
    expect(codeOf(() => tlockDecrypt(new Uint8Array(48), katCiphertext))).toBe("InvalidSignature");
    expect(codeOf(() => tlockDecrypt(sig1000.slice(0, 47), katCiphertext))).toBe("InvalidSignature");
  });

  it("bytes that are not a ciphertext are malformed", () => {
    expect(codeOf(() => tlockDecrypt(sig1000, katCiphertext.slice(0, 200)))).toBe("MalformedCiphertext");
  });
});

describe("layout of the ark serialisation (TIMELOCK.md §1.2)", () => {
  it("has every length prefix at its offset and parses back to the parts", () => {
    const view = new DataView(katCiphertext.buffer, katCiphertext.byteOffset, katCiphertext.length);
    const L = katArgs.payload.length;
    const prefixes: [number, bigint][] = [
      [96, 32n],
      [136, 32n],
      [176, BigInt(L + 44)],
      [184, BigInt(L + 16)],
      [208 + L, 12n],
      [228 + L, 8n],
    ];
    for (const [offset, value] of prefixes) expect(view.getBigUint64(offset, true)).toBe(value);
    const parsed = parseTimelockCiphertext(katCiphertext);
    expect(parsed.nonce).toEqual(katArgs.nonce);
    expect(parsed.body.length).toBe(L + 16);
    expect(new TextDecoder().decode(parsed.cipherSuite)).toBe("AES_GCM_");
  });
});
