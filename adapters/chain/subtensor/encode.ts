/**
 * Pure SCALE encoders of the SubtensorModule calls a validator sends, laid out as mainnet's metadata declares them
 * (pallet index 7; call indexes from `macros/dispatches.rs`). Usable without a node, e.g. to sign offline or to
 * check what @polkadot/api built.
 */
import { compactToU8a, u8aConcat } from "@polkadot/util";
import { decodeAddress } from "@polkadot/util-crypto";

export const SUBTENSOR_PALLET_INDEX = 7;
export const CALL_INDEX = {
  setWeights: 0,
  burnedRegister: 7,
  commitWeights: 96,
  revealWeights: 97,
  commitTimelockedWeights: 113,
} as const;
export const MAX_TIMELOCK_COMMIT_BYTES = 5000;

function assertU16(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new RangeError(`${name} must be a u16, got ${v}`);
}

export function u16Le(v: number): Uint8Array {
  assertU16("value", v);
  return Uint8Array.of(v & 0xff, v >> 8);
}

export function u64Le(v: bigint): Uint8Array {
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`value must be a u64, got ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

export function vecU16(name: string, values: readonly number[]): Uint8Array {
  for (const v of values) assertU16(name, v);
  return u8aConcat(compactToU8a(values.length), ...values.map(u16Le));
}

function callHeader(callIndex: number): Uint8Array {
  return Uint8Array.of(SUBTENSOR_PALLET_INDEX, callIndex);
}

function accountId(account: string | Uint8Array): Uint8Array {
  const bytes = typeof account === "string" ? decodeAddress(account) : account;
  if (bytes.length !== 32) throw new RangeError("an AccountId32 has 32 bytes");
  return bytes;
}

export interface SetWeightsCall {
  readonly netuid: number;
  readonly uids: readonly number[];
  readonly weights: readonly number[];
  readonly versionKey: bigint;
}

/** `set_weights(netuid: u16, dests: Vec<u16>, weights: Vec<u16>, version_key: u64)`. */
export function encodeSetWeightsCall(call: SetWeightsCall): Uint8Array {
  assertU16("netuid", call.netuid);
  return u8aConcat(
    callHeader(CALL_INDEX.setWeights),
    u16Le(call.netuid),
    vecU16("uid", call.uids),
    vecU16("weight", call.weights),
    u64Le(call.versionKey),
  );
}

/** `commit_weights(netuid: u16, commit_hash: H256)`. */
export function encodeCommitWeightsCall(call: { netuid: number; commitHash: Uint8Array }): Uint8Array {
  if (call.commitHash.length !== 32) throw new RangeError("commit_hash is an H256 (32 bytes)");
  return u8aConcat(callHeader(CALL_INDEX.commitWeights), u16Le(call.netuid), call.commitHash);
}

export interface RevealWeightsCall {
  readonly netuid: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly salt: readonly number[];
  readonly versionKey: bigint;
}

/** `reveal_weights(netuid: u16, uids: Vec<u16>, values: Vec<u16>, salt: Vec<u16>, version_key: u64)`. */
export function encodeRevealWeightsCall(call: RevealWeightsCall): Uint8Array {
  return u8aConcat(
    callHeader(CALL_INDEX.revealWeights),
    u16Le(call.netuid),
    vecU16("uid", call.uids),
    vecU16("value", call.values),
    vecU16("salt", call.salt),
    u64Le(call.versionKey),
  );
}

export interface CommitTimelockedWeightsCall {
  readonly netuid: number;
  readonly commit: Uint8Array;
  readonly revealRound: bigint;
  readonly commitRevealVersion: number;
}

/** `commit_timelocked_weights(netuid: u16, commit: BoundedVec<u8, 5000>, reveal_round: u64, commit_reveal_version: u16)`. */
export function encodeCommitTimelockedWeightsCall(call: CommitTimelockedWeightsCall): Uint8Array {
  if (call.commit.length > MAX_TIMELOCK_COMMIT_BYTES) throw new RangeError("commit exceeds 5000 bytes");
  return u8aConcat(
    callHeader(CALL_INDEX.commitTimelockedWeights),
    u16Le(call.netuid),
    compactToU8a(call.commit.length),
    call.commit,
    u64Le(call.revealRound),
    u16Le(call.commitRevealVersion),
  );
}

/** `burned_register(netuid: u16, hotkey: AccountId32)`, signed by the coldkey. */
export function encodeBurnedRegisterCall(call: { netuid: number; hotkey: string | Uint8Array }): Uint8Array {
  return u8aConcat(callHeader(CALL_INDEX.burnedRegister), u16Le(call.netuid), accountId(call.hotkey));
}

export const COMMITMENTS_PALLET_INDEX = 18;
export const MAX_COMMITMENT_BYTES = 128;

/**
 * `Commitments.set_commitment(netuid: u16, info: CommitmentInfo { fields: Vec<Data> })` with one `Data::Raw(n)`
 * field (variant n + 1: None is 0, Raw0..Raw128 follow).
 */
export function encodeSetCommitmentCall(call: { netuid: number; data: Uint8Array }): Uint8Array {
  if (call.data.length > MAX_COMMITMENT_BYTES) throw new RangeError("a Data::Raw field holds at most 128 bytes");
  return u8aConcat(
    Uint8Array.of(COMMITMENTS_PALLET_INDEX, 0),
    u16Le(call.netuid),
    compactToU8a(1),
    Uint8Array.of(call.data.length + 1),
    call.data,
  );
}
