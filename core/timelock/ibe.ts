/**
 * tle's Boneh-Franklin FullIdent over "TinyBLS381" (identity in G1, master key in G2), as pinned by subtensor
 * (TIMELOCK.md §2). The IBE message is the 32-byte esk, which is also the AES key of the body.
 * Plain SHA-256 everywhere, no domain tags: H2 over the ark GT bytes, H3 read big-endian mod r, H4 = SHA-256.
 */

import type { Fp12 } from "@noble/curves/abstract/tower.js";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, xorBytes } from "./bytes.ts";
import { KEY_BYTES } from "./constants.ts";
import { TimelockError } from "./errors.ts";
import { gtToArkBytes } from "./gt-bytes.ts";
import { roundPointG1 } from "./identity.ts";

const { G1, G2, fields } = bls12_381;
type G1Point = ReturnType<typeof G1.Point.fromBytes>;
type G2Point = ReturnType<typeof G2.Point.fromBytes>;

export function h2(gt: Fp12): Uint8Array {
  return sha256(gtToArkBytes(gt));
}

/** r = SHA-256(sigma ‖ msg) as a big-endian integer mod the group order (`from_be_bytes_mod_order`, no rejection). */
export function h3(sigma: Uint8Array, message: Uint8Array): bigint {
  return fields.Fr.create(bytesToNumberBE(sha256(concatBytes(sigma, message))));
}

export function h4(sigma: Uint8Array): Uint8Array {
  return sha256(sigma);
}

/** r·G2 that also covers r = 0 (noble's multiply refuses 0; the probability is 2^-255 but decryption must not throw). */
function g2Times(r: bigint): G2Point {
  return r === 0n ? G2.Point.ZERO : G2.Point.BASE.multiply(r);
}

/** noble's pairing refuses the point at infinity; ark returns GT's identity, which is what we mirror. */
function pair(p: G1Point, q: G2Point): Fp12 {
  return p.is0() || q.is0() ? fields.Fp12.ONE : bls12_381.pairing(p, q);
}

export interface IbeHeader {
  /** U = r·G2, compressed (96 bytes). */
  u: Uint8Array;
  /** sigma XOR H2(g_id). */
  v: Uint8Array;
  /** esk XOR H4(sigma). */
  w: Uint8Array;
}

/** The header plus the values a known-answer test pins. */
export interface IbeEncryption extends IbeHeader {
  r: bigint;
  gt: Fp12;
  h2: Uint8Array;
  h4: Uint8Array;
}

export function ibeEncrypt(publicKeyG2: Uint8Array, round: bigint, esk: Uint8Array, sigma: Uint8Array): IbeEncryption {
  if (esk.length !== KEY_BYTES || sigma.length !== KEY_BYTES) {
    throw new TimelockError("InvalidInput", "esk and sigma must be 32 bytes");
  }
  let pk: G2Point;
  try {
    pk = G2.Point.fromBytes(publicKeyG2);
  } catch {
    throw new TimelockError("InvalidInput", "beacon public key is not a valid compressed G2 point");
  }
  const r = h3(sigma, esk);
  const gt = r === 0n ? fields.Fp12.ONE : pair(roundPointG1(round), pk.multiply(r));
  const h2Value = h2(gt);
  const h4Value = h4(sigma);
  return {
    u: g2Times(r).toBytes(true),
    v: xorBytes(sigma, h2Value),
    w: xorBytes(esk, h4Value),
    r,
    gt,
    h2: h2Value,
    h4: h4Value,
  };
}

/** Recovers esk with the round signature, or throws InvalidSignature when the r·G2 == U check fails (wrong round, tampering). */
export function ibeDecrypt(signatureG1: Uint8Array, header: IbeHeader): Uint8Array {
  if (header.v.length !== KEY_BYTES || header.w.length !== KEY_BYTES) {
    throw new TimelockError("MalformedCiphertext", "v and w must be 32 bytes");
  }
  let sig: G1Point;
  try {
    sig = G1.Point.fromBytes(signatureG1);
  } catch {
    throw new TimelockError("InvalidSignature", "signature is not a valid compressed G1 point");
  }
  let u: G2Point;
  try {
    u = G2.Point.fromBytes(header.u);
  } catch {
    throw new TimelockError("MalformedCiphertext", "U is not a valid compressed G2 point in the subgroup");
  }
  const sigma = xorBytes(header.v, h2(pair(sig, u)));
  const esk = xorBytes(header.w, h4(sigma));
  if (!g2Times(h3(sigma, esk)).equals(u)) {
    throw new TimelockError("InvalidSignature", "IBE check failed: wrong round signature or tampered header");
  }
  return esk;
}
