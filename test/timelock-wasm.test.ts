/**
 * Cross-test against the real `tle` (ideal-lab5/timelock, the revision subtensor pins) compiled to wasm,
 * npm @ideallabs/timelock_wasm_wrapper@1.0.0: our ciphertexts open in tle and tle's open in ours, with the real
 * quicknet round-1000 signature. Payloads come from a fixed-seed generator so a failure reproduces.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initSync, tld, tle } from "@ideallabs/timelock_wasm_wrapper";
import { sha256 } from "@noble/hashes/sha2.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildTimelockedCommit,
  decodeWeightsPayload,
  generateBeaconKey,
  parseTimelockCiphertext,
  QUICKNET,
  roundIdentity,
  signRound,
  tlockDecrypt,
  tlockEncrypt,
} from "../core/timelock/index.ts";
import { KAT_A, QUICKNET_SIGNATURES } from "../core/timelock/known-answers.ts";

const CURVE = "bls12_381";
const pk = hexToBytes(QUICKNET.publicKeyHex);
const sig1000 = hexToBytes(QUICKNET_SIGNATURES[1000]);
const sig2000 = hexToBytes(QUICKNET_SIGNATURES[2000]);

/** Deterministic byte stream: sha256(seed ‖ counter) blocks. */
function seededBytes(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n; filled += 32) {
      const block = sha256(new TextEncoder().encode(`${seed}:${counter++}`));
      out.set(block.slice(0, Math.min(32, n - filled)), filled);
    }
    return out;
  };
}

function tleEncrypt(round: bigint, payload: Uint8Array, esk: Uint8Array, publicKey: Uint8Array = pk): Uint8Array {
  return Uint8Array.from(
    tle(Array.from(roundIdentity(round)), Array.from(payload), Array.from(esk), Array.from(publicKey), CURVE),
  );
}

function tleDecrypt(ciphertext: Uint8Array, signature: Uint8Array): Uint8Array {
  return Uint8Array.from(tld(Array.from(ciphertext), Array.from(signature), CURVE));
}

function tleError(ciphertext: Uint8Array, signature: Uint8Array): string {
  try {
    tleDecrypt(ciphertext, signature);
    return "decrypted";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

beforeAll(() => {
  const wasmPath = createRequire(import.meta.url).resolve(
    "@ideallabs/timelock_wasm_wrapper/timelock_wasm_wrapper_bg.wasm",
  );
  initSync({ module: readFileSync(wasmPath) });
});

describe("tle (wasm 1.0.0) agrees with core/timelock", () => {
  const random = seededBytes("timelock-cross-test-v1");
  const cases = Array.from({ length: 6 }, (_, i) => {
    const length = i === 0 ? 0 : (random(2)[0] ?? 0) * 4 + (random(1)[0] ?? 0);
    return { payload: random(length), esk: random(32), sigma: random(32), nonce: random(12) };
  });

  it("opens KAT-A and reports the same failures as TIMELOCK.md §5", () => {
    const kat = hexToBytes(KAT_A.ciphertextHex);
    expect(new TextDecoder().decode(tleDecrypt(kat, sig1000))).toBe(KAT_A.plaintext);
    expect(tleError(kat, sig2000)).toMatch(/InvalidSignature/);
    const flippedV = kat.slice();
    flippedV[110] = (flippedV[110] ?? 0) ^ 0x04;
    expect(tleError(flippedV, sig1000)).toMatch(/InvalidSignature/);
    const flippedU = kat.slice();
    flippedU[0] = (flippedU[0] ?? 0) ^ 0x20;
    expect(tleError(flippedU, sig1000)).toMatch(/InvalidSignature/);
    const flippedTag = kat.slice();
    const tag = 192 + KAT_A.plaintext.length + 2;
    flippedTag[tag] = (flippedTag[tag] ?? 0) ^ 0x01;
    expect(tleError(flippedTag, sig1000)).toMatch(/DecryptionError/);
  });

  it("decrypts in tle what we encrypt (random payloads, fixed seed)", () => {
    for (const c of cases) {
      const ct = tlockEncrypt({ publicKeyG2: pk, round: 1000n, ...c });
      expect(ct.length).toBe(c.payload.length + 244);
      expect(tleDecrypt(ct, sig1000)).toEqual(c.payload);
    }
  });

  it("decrypts in core/timelock what tle encrypts", () => {
    for (const c of cases) {
      const ct = tleEncrypt(1000n, c.payload, c.esk);
      expect(ct.length).toBe(c.payload.length + 244);
      const parsed = parseTimelockCiphertext(ct);
      expect(new TextDecoder().decode(parsed.cipherSuite)).toBe("AES_GCM_");
      expect(tlockDecrypt(sig1000, ct)).toEqual(c.payload);
      expect(() => tlockDecrypt(sig2000, ct)).toThrow(expect.objectContaining({ code: "InvalidSignature" }));
    }
  });

  it("a weights commit opens in tle and decodes to the same weights", () => {
    const weights = { hotkey: random(32), uids: [0, 5, 9], values: [65535, 12, 0], versionKey: 7n };
    const commit = buildTimelockedCommit({ publicKeyG2: pk, round: 1000n, weights });
    expect(decodeWeightsPayload(tleDecrypt(commit, sig1000))).toEqual(weights);
  });

  it("agrees under a local devnet beacon key as well", () => {
    const beacon = generateBeaconKey(new TextEncoder().encode("devnet-cross-test-seed"));
    const payload = random(77);
    const sig = signRound(beacon.secretKey, 5n);
    const ours = tlockEncrypt({ publicKeyG2: beacon.publicKeyG2, round: 5n, payload });
    expect(tleDecrypt(ours, sig)).toEqual(payload);
    const theirs = tleEncrypt(5n, payload, random(32), beacon.publicKeyG2);
    expect(tlockDecrypt(sig, theirs)).toEqual(payload);
  });
});
