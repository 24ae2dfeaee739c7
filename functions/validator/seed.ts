import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * The seed of an epoch's hidden items: the validator's secret mixed with subnet, epoch and task. Without the
 * secret a miner cannot predict the items; with a new epoch the set changes.
 */
export function epochSeed(secret: string, netuid: number, epoch: number, task: string): string {
  return bytesToHex(sha256(utf8ToBytes(`${secret}\u0000${netuid}\u0000${epoch}\u0000${task}`)));
}

/** A 32-bit seed for PRNG-based sources, taken from the hex seed. */
export function seedToUint32(seed: string): number {
  return Number.parseInt(seed.slice(0, 8), 16) >>> 0;
}
