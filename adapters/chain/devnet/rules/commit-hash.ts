/** CR v2 commit hash: Blake2b-256 of SCALE(hotkey AccountId32, netuid_index u16, uids, values, salt, version_key u64). */
import { compactToU8a, u8aConcat } from "@polkadot/util";
import { blake2AsU8a, decodeAddress } from "@polkadot/util-crypto";

function u16Le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >> 8) & 0xff);
}

function u64Le(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return out;
}

export function vecU16(values: readonly number[]): Uint8Array {
  return u8aConcat(compactToU8a(values.length), ...values.map(u16Le));
}

/** `get_commit_hash`; `hotkey` is an ss58 address or a 32-byte public key. Values are as submitted (not upscaled). */
export function commitHash(
  hotkey: string | Uint8Array,
  netuidIndex: number,
  uids: readonly number[],
  values: readonly number[],
  salt: readonly number[],
  versionKey: bigint,
): Uint8Array {
  const account = typeof hotkey === "string" ? decodeAddress(hotkey) : hotkey;
  const encoded = u8aConcat(account, u16Le(netuidIndex), vecU16(uids), vecU16(values), vecU16(salt), u64Le(versionKey));
  return blake2AsU8a(encoded, 256);
}

export { u16Le, u64Le };
