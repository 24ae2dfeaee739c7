/**
 * Quicknet-style beacon ("bls-unchained-g1-rfc9380"): signatures in G1 over the round identity, public key in G2.
 * verifyBeaconSignature checks real drand pulses; generateBeaconKey/signRound run a local beacon for the devnet.
 */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { TimelockError } from "./errors.ts";
import { roundPointG1 } from "./identity.ts";

const { G1, G2, fields } = bls12_381;
/** noble reduces exactly this many seed bytes into a scalar in 1..r-1. */
const SEED_BYTES = 48;

/** True when e(sig, g2) == e(Q_ID(round), pk). Never throws: bad encodings are just "not valid". */
export function verifyBeaconSignature(publicKeyG2: Uint8Array, round: bigint, signatureG1: Uint8Array): boolean {
  try {
    const pk = G2.Point.fromBytes(publicKeyG2);
    const sig = G1.Point.fromBytes(signatureG1);
    if (pk.is0() || sig.is0()) return false;
    const lhs = bls12_381.pairing(sig, G2.Point.BASE);
    const rhs = bls12_381.pairing(roundPointG1(round), pk);
    return fields.Fp12.eql(lhs, rhs);
  } catch {
    return false;
  }
}

/**
 * A beacon key pair. With a seed (any length, at least 16 bytes) the key is deterministic, which the devnet and
 * tests use; without one it comes from crypto.getRandomValues. secretKey is the 32-byte big-endian scalar.
 */
export function generateBeaconKey(seed?: Uint8Array): { secretKey: Uint8Array; publicKeyG2: Uint8Array } {
  if (seed !== undefined && seed.length < 16) throw new TimelockError("InvalidInput", "beacon seed needs >= 16 bytes");
  const material = seed === undefined ? undefined : sha512(seed).slice(0, SEED_BYTES);
  const secretKey = bls12_381.utils.randomSecretKey(material);
  const publicKeyG2 = G2.Point.BASE.multiply(bytesToNumberBE(secretKey)).toBytes(true);
  return { secretKey, publicKeyG2 };
}

/** The round's signature, sk·Q_ID, compressed (48 bytes): also the IBE private key for that round. */
export function signRound(secretKey: Uint8Array, round: bigint): Uint8Array {
  const sk = bytesToNumberBE(secretKey);
  if (secretKey.length !== 32 || sk <= 0n || sk >= fields.Fr.ORDER) {
    throw new TimelockError("InvalidInput", "beacon secret key must be a 32-byte scalar in 1..r-1");
  }
  return roundPointG1(round).multiply(sk).toBytes(true);
}
