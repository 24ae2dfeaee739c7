/**
 * arkworks' CanonicalSerialize of an Fq12 value: the 12 base-field coefficients, c0 before c1 at every tower level
 * (Fq12 -> Fq6 -> Fq2), each 48 bytes little-endian. tle hashes exactly these 576 bytes (H2); drand's tlock-js uses a
 * big-endian, c1-first order that would not match.
 */
import type { Fp2, Fp12 } from "@noble/curves/abstract/tower.js";
import { numberToBytesLE } from "@noble/curves/utils.js";
import { concatBytes } from "./bytes.ts";

const FP_BYTES = 48;

export function gtToArkBytes(value: Fp12): Uint8Array {
  const fp2s: Fp2[] = [value.c0.c0, value.c0.c1, value.c0.c2, value.c1.c0, value.c1.c1, value.c1.c2];
  return concatBytes(...fp2s.flatMap((f) => [numberToBytesLE(f.c0, FP_BYTES), numberToBytesLE(f.c1, FP_BYTES)]));
}
