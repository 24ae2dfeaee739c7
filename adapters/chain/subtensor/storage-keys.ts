/**
 * Storage keys of SubtensorModule items, hashed as subtensor declares them (`pallets/subtensor/src/lib.rs`):
 * twox128(pallet) ++ twox128(item) ++ each map key through its hasher. Key encodings: NetUid/u16 LE, u64 LE,
 * AccountId32 raw.
 */
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a, decodeAddress, xxhashAsU8a } from "@polkadot/util-crypto";
import { u16Le, u64Le } from "./encode.ts";

export type Hasher = "Identity" | "Twox64Concat" | "Blake2_128Concat";

export interface KeyPart {
  readonly hasher: Hasher;
  readonly bytes: Uint8Array;
}

function hashPart({ hasher, bytes }: KeyPart): Uint8Array {
  switch (hasher) {
    case "Identity":
      return bytes;
    case "Twox64Concat":
      return u8aConcat(xxhashAsU8a(bytes, 64), bytes);
    case "Blake2_128Concat":
      return u8aConcat(blake2AsU8a(bytes, 128), bytes);
  }
}

/** Any pallet's storage key as hex (0x...). */
export function storageKey(pallet: string, item: string, parts: readonly KeyPart[] = []): string {
  return u8aToHex(u8aConcat(xxhashAsU8a(pallet, 128), xxhashAsU8a(item, 128), ...parts.map(hashPart)));
}

const PALLET = "SubtensorModule";
const netuidKey = (hasher: Hasher, netuid: number): KeyPart => ({ hasher, bytes: u16Le(netuid) });
const accountKey = (hasher: Hasher, account: string | Uint8Array): KeyPart => ({
  hasher,
  bytes: typeof account === "string" ? decodeAddress(account) : account,
});

/** StorageMap<Identity, NetUid, _> items a validator reads, by storage name. */
export const NETUID_IDENTITY_ITEMS = [
  "SubnetworkN",
  "Tempo",
  "Kappa",
  "ImmunityPeriod",
  "MinAllowedWeights",
  "MaxWeightsLimit",
  "WeightsVersionKey",
  "WeightsSetRateLimit",
  "ActivityCutoffFactorMilli",
  "MaxAllowedValidators",
  "MaxAllowedUids",
  "BondsMovingAverage",
  "BondsPenalty",
  "CommitRevealWeightsEnabled",
  "AlphaValues",
  "AlphaSigmoidSteepness",
  "SubnetEpochIndex",
  "LastEpochBlock",
  "Active",
  "ValidatorPermit",
  "Consensus",
  "Emission",
  "Dividends",
  "ValidatorTrust",
  "SubnetOwnerHotkey",
  "LastUpdate",
  "Incentive",
] as const;
export type NetuidIdentityItem = (typeof NETUID_IDENTITY_ITEMS)[number];

export const subtensorStorageKeys = {
  /** Items keyed by `Identity(NetUid)` (LastUpdate and Incentive take the netuid_index, = netuid for mechanism 0). */
  byNetuid: (item: NetuidIdentityItem, netuid: number) => storageKey(PALLET, item, [netuidKey("Identity", netuid)]),
  revealPeriodEpochs: (netuid: number) => storageKey(PALLET, "RevealPeriodEpochs", [netuidKey("Twox64Concat", netuid)]),
  yuma3On: (netuid: number) => storageKey(PALLET, "Yuma3On", [netuidKey("Blake2_128Concat", netuid)]),
  liquidAlphaOn: (netuid: number) => storageKey(PALLET, "LiquidAlphaOn", [netuidKey("Blake2_128Concat", netuid)]),
  commitRevealWeightsVersion: () => storageKey(PALLET, "CommitRevealWeightsVersion"),
  stakeThreshold: () => storageKey(PALLET, "StakeThreshold"),
  keys: (netuid: number, uid: number) =>
    storageKey(PALLET, "Keys", [netuidKey("Identity", netuid), { hasher: "Identity", bytes: u16Le(uid) }]),
  uids: (netuid: number, hotkey: string | Uint8Array) =>
    storageKey(PALLET, "Uids", [netuidKey("Identity", netuid), accountKey("Blake2_128Concat", hotkey)]),
  weights: (netuidIndex: number, uid: number) =>
    storageKey(PALLET, "Weights", [netuidKey("Identity", netuidIndex), { hasher: "Identity", bytes: u16Le(uid) }]),
  bonds: (netuidIndex: number, uid: number) =>
    storageKey(PALLET, "Bonds", [netuidKey("Identity", netuidIndex), { hasher: "Identity", bytes: u16Le(uid) }]),
  blockAtRegistration: (netuid: number, uid: number) =>
    storageKey(PALLET, "BlockAtRegistration", [
      netuidKey("Identity", netuid),
      { hasher: "Identity", bytes: u16Le(uid) },
    ]),
  /** Prefix for iterating every BlockAtRegistration entry of a subnet. */
  blockAtRegistrationPrefix: (netuid: number) =>
    storageKey(PALLET, "BlockAtRegistration", [netuidKey("Identity", netuid)]),
  owner: (hotkey: string | Uint8Array) => storageKey(PALLET, "Owner", [accountKey("Blake2_128Concat", hotkey)]),
  totalHotkeyAlpha: (hotkey: string | Uint8Array, netuid: number) =>
    storageKey(PALLET, "TotalHotkeyAlpha", [accountKey("Blake2_128Concat", hotkey), netuidKey("Identity", netuid)]),
  weightCommits: (netuidIndex: number, hotkey: string | Uint8Array) =>
    storageKey(PALLET, "WeightCommits", [netuidKey("Twox64Concat", netuidIndex), accountKey("Twox64Concat", hotkey)]),
  timelockedWeightCommits: (netuidIndex: number, epoch: bigint) =>
    storageKey(PALLET, "TimelockedWeightCommits", [
      netuidKey("Twox64Concat", netuidIndex),
      { hasher: "Twox64Concat", bytes: u64Le(epoch) },
    ]),
  /** pallet_drand::LastStoredRound (reveal rounds below it are refused). */
  drandLastStoredRound: () => storageKey("Drand", "LastStoredRound"),
};
