/** The drand round identity: what quicknet signs and what `tle` hashes to G1 as the IBE identity. */
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { u64BE } from "./bytes.ts";
import { QUICKNET_DST } from "./constants.ts";

type G1Point = ReturnType<typeof bls12_381.G1.Point.fromBytes>;

/** sha256 of the round as 8 big-endian bytes (bittensor-drand `encrypt_and_compress`). */
export function roundIdentity(round: bigint): Uint8Array {
  return sha256(u64BE(round));
}

/** Q_ID = hash_to_curve_G1(roundIdentity(round)) with quicknet's DST. */
export function roundPointG1(round: bigint): G1Point {
  return bls12_381.G1.hashToCurve(roundIdentity(round), { DST: QUICKNET_DST });
}
