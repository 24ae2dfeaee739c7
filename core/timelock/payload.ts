/**
 * SCALE `WeightsTlockPayload { hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64 }`, the plaintext
 * of a CR-v3/v4 commit, and the decode fallback order subtensor's reveal uses (reveal_commits.rs).
 */
import { concatBytes, u64LE } from "./bytes.ts";
import { TimelockError } from "./errors.ts";
import { encodeBytesVec, encodeU16Vec, ScaleReader } from "./scale.ts";

const HOTKEY_BYTES = 32;
const U16_MAX = 0xffff;

export interface WeightsPayload {
  /** Raw 32-byte sr25519 public key of the committing hotkey (the chain drops a reveal whose hotkey differs). */
  hotkey: Uint8Array;
  uids: number[];
  values: number[];
  versionKey: bigint;
}

export interface DecodedWeightsPayload {
  /** null when the payload is the legacy three-field form without a hotkey. */
  hotkey: Uint8Array | null;
  uids: number[];
  values: number[];
  versionKey: bigint;
}

function assertU16s(name: string, values: readonly number[]): void {
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0 || v > U16_MAX)
      throw new TimelockError("InvalidInput", `${name}: ${v} is not a u16`);
  }
}

export function encodeWeightsPayload(payload: WeightsPayload): Uint8Array {
  if (payload.hotkey.length !== HOTKEY_BYTES) throw new TimelockError("InvalidInput", "hotkey must be 32 bytes");
  if (payload.uids.length !== payload.values.length) {
    throw new TimelockError("InvalidInput", "uids and values differ in length");
  }
  assertU16s("uids", payload.uids);
  assertU16s("values", payload.values);
  return concatBytes(
    encodeBytesVec(payload.hotkey),
    encodeU16Vec(payload.uids),
    encodeU16Vec(payload.values),
    u64LE(payload.versionKey),
  );
}

function decodeCurrent(bytes: Uint8Array): DecodedWeightsPayload {
  const reader = new ScaleReader(bytes);
  const hotkey = reader.bytesVec();
  const uids = reader.u16Vec();
  const values = reader.u16Vec();
  const versionKey = reader.u64();
  // The chain reads an AccountId (32 bytes) out of the hotkey field; shorter means "try the legacy form".
  if (hotkey.length < HOTKEY_BYTES) throw new TimelockError("MalformedPayload", "hotkey shorter than an AccountId");
  return { hotkey: hotkey.slice(0, HOTKEY_BYTES), uids, values, versionKey };
}

function decodeLegacy(bytes: Uint8Array): DecodedWeightsPayload {
  const reader = new ScaleReader(bytes);
  const uids = reader.u16Vec();
  const values = reader.u16Vec();
  return { hotkey: null, uids, values, versionKey: reader.u64() };
}

/**
 * Current form first, then the legacy `{uids, values, version_key}`, as the chain does. Like the chain's
 * `Decode::decode`, trailing bytes are ignored. Throws MalformedPayload when neither form decodes.
 */
export function decodeWeightsPayload(bytes: Uint8Array): DecodedWeightsPayload {
  try {
    return decodeCurrent(bytes);
  } catch {
    try {
      return decodeLegacy(bytes);
    } catch {
      throw new TimelockError("MalformedPayload", "neither a weights payload nor a legacy weights payload");
    }
  }
}
