import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { generateBeaconKey, signRound, verifyBeaconSignature } from "./beacon.ts";
import { QUICKNET } from "./constants.ts";
import { TimelockError } from "./errors.ts";
import { roundIdentity, roundPointG1 } from "./identity.ts";
import { QUICKNET_SIGNATURES, ROUND_1000 } from "./known-answers.ts";
import { tlockDecrypt, tlockEncrypt } from "./tlock.ts";

const pk = hexToBytes(QUICKNET.publicKeyHex);

describe("round identity", () => {
  it("is sha256 of the round as u64 big-endian, hashed to G1 with quicknet's DST", () => {
    expect(bytesToHex(roundIdentity(1000n))).toBe(ROUND_1000.identityHex);
    expect(bytesToHex(roundPointG1(1000n).toBytes(true))).toBe(ROUND_1000.pointG1Hex);
  });

  it("refuses rounds outside u64", () => {
    expect(() => roundIdentity(-1n)).toThrow(TimelockError);
    expect(() => roundIdentity(1n << 64n)).toThrow(TimelockError);
  });
});

describe("verifyBeaconSignature with real quicknet pulses", () => {
  it.each([1000n, 2000n, 12040883n] as const)("round %s verifies", (round) => {
    const key = Number(round) as keyof typeof QUICKNET_SIGNATURES;
    expect(verifyBeaconSignature(pk, round, hexToBytes(QUICKNET_SIGNATURES[key]))).toBe(true);
  });

  it("the round-1000 signature does not verify for round 2000", () => {
    expect(verifyBeaconSignature(pk, 2000n, hexToBytes(QUICKNET_SIGNATURES[1000]))).toBe(false);
  });

  it("returns false, never throws, on bytes that are not points", () => {
    expect(verifyBeaconSignature(pk, 1000n, new Uint8Array(48))).toBe(false);
    expect(verifyBeaconSignature(new Uint8Array(96), 1000n, hexToBytes(QUICKNET_SIGNATURES[1000]))).toBe(false);
    expect(verifyBeaconSignature(pk, 1000n, new Uint8Array(3))).toBe(false);
  });
});

describe("local beacon for the devnet", () => {
  const seed = new TextEncoder().encode("devnet beacon seed 0001");

  it("is deterministic for a seed and signs rounds that verify and open timelocks", () => {
    const a = generateBeaconKey(seed);
    const b = generateBeaconKey(seed);
    expect(bytesToHex(a.publicKeyG2)).toBe(bytesToHex(b.publicKeyG2));
    expect(a.publicKeyG2.length).toBe(96);
    const sig = signRound(a.secretKey, 42n);
    expect(sig.length).toBe(48);
    expect(verifyBeaconSignature(a.publicKeyG2, 42n, sig)).toBe(true);
    expect(verifyBeaconSignature(a.publicKeyG2, 43n, sig)).toBe(false);
    expect(verifyBeaconSignature(pk, 42n, sig)).toBe(false);
    const payload = new TextEncoder().encode("devnet weights");
    const ct = tlockEncrypt({ publicKeyG2: a.publicKeyG2, round: 42n, payload });
    expect(tlockDecrypt(sig, ct)).toEqual(payload);
    expect(() => tlockDecrypt(signRound(a.secretKey, 41n), ct)).toThrow(TimelockError);
  });

  it("differs between seeds and without a seed", () => {
    const other = generateBeaconKey(new TextEncoder().encode("devnet beacon seed 0002"));
    expect(bytesToHex(other.publicKeyG2)).not.toBe(bytesToHex(generateBeaconKey(seed).publicKeyG2));
    expect(bytesToHex(generateBeaconKey().secretKey)).not.toBe(bytesToHex(generateBeaconKey().secretKey));
  });

  it("refuses short seeds and secret keys that are not scalars", () => {
    expect(() => generateBeaconKey(new Uint8Array(8))).toThrow(TimelockError);
    expect(() => signRound(new Uint8Array(32), 1n)).toThrow(TimelockError);
    expect(() => signRound(new Uint8Array(32).fill(0xff), 1n)).toThrow(TimelockError);
  });
});
