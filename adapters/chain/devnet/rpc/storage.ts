/**
 * Storage served from devnet state: a key is parsed with the metadata's hashers and key types, the value comes from
 * the devnet and is SCALE-encoded with the item's own metadata type. Items the devnet does not model answer null, so
 * @polkadot/api applies the metadata default (as a node does for an absent ValueQuery entry).
 */
import type { Codec } from "@polkadot/types/types";
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a, xxhashAsU8a } from "@polkadot/util-crypto";
import type { Devnet } from "../devnet.ts";
import { immuneOwnerUidsLimit, minNonImmuneUids } from "../rules/registration.ts";
import type { SubnetState } from "../state.ts";
import { itemPrefix, type ServedMetadata } from "./metadata.ts";

type Args = readonly Codec[];
interface ItemSource {
  /** The value for these key arguments, or undefined for an absent entry. */
  value(args: Args, block: number): unknown;
  /** Every key (as arguments) the item holds, for state_getKeysPaged; absent = not enumerable. */
  keys?(): unknown[][];
}

interface ItemMeta {
  readonly pallet: string;
  readonly item: string;
  readonly hashers: string[];
  readonly keyTypes: string[];
  readonly valueType: string;
}

const num = (c: Codec | undefined) => Number(c?.toPrimitive());
const str = (c: Codec | undefined) => String(c?.toString());

function hashKey(hasher: string, bytes: Uint8Array): Uint8Array {
  switch (hasher) {
    case "Identity":
      return bytes;
    case "Twox64Concat":
      return u8aConcat(xxhashAsU8a(bytes, 64), bytes);
    case "Blake2_128Concat":
      return u8aConcat(blake2AsU8a(bytes, 128), bytes);
    case "Twox128":
      return xxhashAsU8a(bytes, 128);
    case "Twox256":
      return xxhashAsU8a(bytes, 256);
    case "Blake2_128":
      return blake2AsU8a(bytes, 128);
    default:
      return blake2AsU8a(bytes, 256);
  }
}

/** Bytes of a hashed key part to skip before the raw key (only the *Concat and Identity hashers keep it). */
const HASH_PREFIX: Record<string, number> = { Identity: 0, Twox64Concat: 8, Blake2_128Concat: 16 };

export class StorageView {
  private readonly items = new Map<string, ItemMeta>();
  private readonly sources: Record<string, ItemSource>;

  constructor(
    private readonly served: ServedMetadata,
    devnet: Devnet,
    /** The block a read is `at` (head when absent); undefined for a hash the server does not know. */
    private readonly blockAt: (blockHash: string | undefined) => { number: number; events: string } | undefined,
  ) {
    const { registry, metadata } = served;
    for (const pallet of metadata.asLatest.pallets) {
      if (pallet.storage.isNone) continue;
      const storage = pallet.storage.unwrap();
      for (const entry of storage.items) {
        const pal = storage.prefix.toString();
        const item = entry.name.toString();
        let meta: ItemMeta;
        if (entry.type.isPlain) {
          meta = {
            pallet: pal,
            item,
            hashers: [],
            keyTypes: [],
            valueType: registry.createLookupType(entry.type.asPlain),
          };
        } else {
          const map = entry.type.asMap;
          const hashers = map.hashers.map((h) => h.type);
          const keyDef = registry.lookup.getSiType(map.key).def;
          const keyTypes =
            hashers.length > 1 && keyDef.isTuple
              ? keyDef.asTuple.map((t) => registry.createLookupType(t))
              : [registry.createLookupType(map.key)];
          meta = { pallet: pal, item, hashers, keyTypes, valueType: registry.createLookupType(map.value) };
        }
        this.items.set(u8aToHex(itemPrefix(pal, item)), meta);
      }
    }
    this.sources = buildSources(devnet);
  }

  private parse(keyHex: string): { meta: ItemMeta; args: Codec[] } | null {
    const meta = this.items.get(keyHex.slice(0, 66));
    if (!meta) return null;
    const bytes = Buffer.from(keyHex.slice(66), "hex");
    const args: Codec[] = [];
    let offset = 0;
    for (const [i, hasher] of meta.hashers.entries()) {
      const skip = HASH_PREFIX[hasher];
      const type = meta.keyTypes[i];
      if (skip === undefined || type === undefined) return null;
      offset += skip;
      // A key whose argument does not decode names no item: null, as a node answers (a throw here would escape
      // from a storage subscription's block listener and take the process down).
      let arg: Codec;
      try {
        arg = this.served.registry.createType(type, new Uint8Array(bytes.subarray(offset)));
      } catch {
        return null;
      }
      offset += arg.encodedLength;
      args.push(arg);
    }
    return offset === bytes.length ? { meta, args } : null;
  }

  /**
   * state_getStorage: 0x-hex SCALE value or null. Only System.Events and Timestamp.Now are historical (read `at` a
   * block); every other item answers from the current state.
   */
  get(keyHex: string, at?: string): string | null {
    const parsed = this.parse(keyHex.toLowerCase());
    if (!parsed) return null;
    const { meta, args } = parsed;
    const block = this.blockAt(at);
    if (block === undefined) return null;
    if (meta.pallet === "System" && meta.item === "Events") return block.events;
    const source = this.sources[`${meta.pallet}.${meta.item}`];
    if (!source) return null;
    let value: unknown;
    try {
      value = source.value(args, block.number);
    } catch {
      return null;
    }
    if (value === undefined) return null;
    return u8aToHex(this.served.registry.createType(meta.valueType, value).toU8a());
  }

  /** A key argument's SCALE bytes; u16 (netuid, uid) directly, as a 4,096-uid map has thousands of them. */
  private encodeKey(type: string, value: unknown): Uint8Array {
    if (typeof value === "number" && U16_KEY.test(this.typeName(type))) return Uint8Array.of(value & 0xff, value >> 8);
    return this.served.registry.createType(type, value).toU8a();
  }

  private readonly typeNames = new Map<string, string>();
  private typeName(lookupType: string): string {
    let name = this.typeNames.get(lookupType);
    if (name === undefined) {
      name = this.served.registry.createType(lookupType).toRawType();
      this.typeNames.set(lookupType, name);
    }
    return name;
  }

  /** state_getKeysPaged over the items the devnet can enumerate, sorted as a node's trie iterates them. */
  keysPaged(prefix: string, count: number, startKey?: string): string[] {
    const lower = prefix.toLowerCase();
    const out: string[] = [];
    for (const [itemKey, meta] of this.items) {
      if (!itemKey.startsWith(lower.slice(0, 66)) && !lower.startsWith(itemKey)) continue;
      const source = this.sources[`${meta.pallet}.${meta.item}`];
      for (const args of source?.keys?.() ?? []) {
        const key = this.keyOf(meta, args);
        if (key.startsWith(lower) && (startKey === undefined || key > startKey.toLowerCase())) out.push(key);
      }
    }
    return out.sort().slice(0, count);
  }

  private keyOf(meta: ItemMeta, args: unknown[]): string {
    const parts = meta.hashers.map((hasher, i) => hashKey(hasher, this.encodeKey(meta.keyTypes[i] ?? "Null", args[i])));
    return u8aToHex(u8aConcat(itemPrefix(meta.pallet, meta.item), ...parts));
  }
}

const U16_KEY = /^u16$/;

function buildSources(devnet: Devnet): Record<string, ItemSource> {
  const subnet = (args: Args): SubnetState | undefined => devnet.state.subnets[String(num(args[0]))];
  const subnets = () => Object.values(devnet.state.subnets);
  const perNetuid = (read: (s: SubnetState) => unknown): ItemSource => ({
    value: (args) => {
      const s = subnet(args);
      return s === undefined ? undefined : read(s);
    },
    keys: () => subnets().map((s) => [s.netuid]),
  });
  const perUid = (read: (s: SubnetState, uid: number) => unknown): ItemSource => ({
    value: (args) => {
      const s = subnet(args);
      const uid = num(args[1]);
      return s === undefined || uid >= s.neurons.length ? undefined : read(s, uid);
    },
    keys: () => subnets().flatMap((s) => s.neurons.map((_, uid) => [s.netuid, uid])),
  });
  const hp = (read: (s: SubnetState) => unknown) => perNetuid(read);
  const neuronVec = (read: (n: SubnetState["neurons"][number]) => unknown) => perNetuid((s) => s.neurons.map(read));
  const cutoffBlocks = (s: SubnetState) =>
    Math.min(65535, Math.max(1, Math.floor((s.hyperparams.activityCutoffFactorMilli * s.hyperparams.tempo) / 1000)));
  const sources: Record<string, ItemSource> = {
    "SubtensorModule.NetworksAdded": perNetuid(() => true),
    "SubtensorModule.SubnetworkN": perNetuid((s) => s.neurons.length),
    "SubtensorModule.Tempo": hp((s) => s.hyperparams.tempo),
    // The devnet keeps no balances: a burned registration costs 0 rao.
    "SubtensorModule.Burn": hp(() => 0),
    "SubtensorModule.Kappa": hp((s) => s.hyperparams.kappa),
    "SubtensorModule.ImmunityPeriod": hp((s) => s.hyperparams.immunityPeriod),
    "SubtensorModule.MinAllowedWeights": hp((s) => s.hyperparams.minAllowedWeights),
    "SubtensorModule.MaxWeightsLimit": hp((s) => s.hyperparams.maxWeightsLimit),
    "SubtensorModule.WeightsVersionKey": hp((s) => s.hyperparams.weightsVersionKey),
    "SubtensorModule.WeightsSetRateLimit": hp((s) => s.hyperparams.weightsRateLimit),
    "SubtensorModule.ActivityCutoffFactorMilli": hp((s) => s.hyperparams.activityCutoffFactorMilli),
    // The absolute cutoff older runtimes store: the same number of blocks the factor gives at this tempo.
    "SubtensorModule.ActivityCutoff": hp(cutoffBlocks),
    "SubtensorModule.MaxAllowedValidators": hp((s) => s.hyperparams.maxAllowedValidators),
    "SubtensorModule.MaxAllowedUids": hp((s) => s.hyperparams.maxAllowedUids),
    "SubtensorModule.BondsMovingAverage": hp((s) => s.hyperparams.bondsMovingAverage),
    "SubtensorModule.BondsPenalty": hp((s) => s.hyperparams.bondsPenalty),
    "SubtensorModule.CommitRevealWeightsEnabled": hp((s) => s.hyperparams.commitRevealWeightsEnabled),
    "SubtensorModule.RevealPeriodEpochs": hp((s) => s.hyperparams.revealPeriodEpochs),
    "SubtensorModule.Yuma3On": hp((s) => s.hyperparams.yuma3Enabled),
    "SubtensorModule.LiquidAlphaOn": hp((s) => s.hyperparams.liquidAlphaEnabled),
    "SubtensorModule.AlphaValues": hp((s) => [s.hyperparams.alphaLow, s.hyperparams.alphaHigh]),
    "SubtensorModule.AlphaSigmoidSteepness": hp((s) => s.hyperparams.alphaSigmoidSteepness),
    "SubtensorModule.SubnetEpochIndex": hp((s) => s.epochIndex),
    "SubtensorModule.LastEpochBlock": hp((s) => s.lastEpochBlock),
    "SubtensorModule.LastMechansimStepBlock": hp((s) => s.lastMechanismStepBlock),
    "SubtensorModule.MinNonImmuneUids": hp(minNonImmuneUids),
    "SubtensorModule.ImmuneOwnerUidsLimit": hp(immuneOwnerUidsLimit),
    "SubtensorModule.SubnetOwner": hp((s) => s.ownerColdkey),
    "SubtensorModule.SubnetOwnerHotkey": perNetuid((s) => s.ownerHotkey ?? undefined),
    "SubtensorModule.CommitRevealWeightsVersion": { value: () => devnet.state.commitRevealWeightsVersion },
    "SubtensorModule.StakeThreshold": { value: () => devnet.state.stakeThreshold },
    "SubtensorModule.LastUpdate": neuronVec((n) => n.lastUpdate),
    "SubtensorModule.Active": neuronVec((n) => n.active),
    "SubtensorModule.ValidatorPermit": neuronVec((n) => n.validatorPermit),
    "SubtensorModule.Incentive": neuronVec((n) => n.incentive),
    "SubtensorModule.Consensus": neuronVec((n) => n.consensus),
    "SubtensorModule.Dividends": neuronVec((n) => n.dividends),
    "SubtensorModule.ValidatorTrust": neuronVec((n) => n.validatorTrust),
    "SubtensorModule.Emission": neuronVec((n) => n.emission),
    "SubtensorModule.Keys": perUid((s, uid) => s.neurons[uid]?.hotkey),
    "SubtensorModule.BlockAtRegistration": perUid((s, uid) => s.neurons[uid]?.blockAtRegistration),
    "SubtensorModule.Weights": perUid((s, uid) => s.neurons[uid]?.weights),
    "SubtensorModule.Bonds": perUid((s, uid) => s.neurons[uid]?.bonds),
    "SubtensorModule.Uids": {
      value: (args) => {
        const uid = subnet(args)?.neurons.findIndex((n) => n.hotkey === str(args[1]));
        return uid === undefined || uid < 0 ? undefined : uid;
      },
      keys: () => subnets().flatMap((s) => s.neurons.map((n) => [s.netuid, n.hotkey])),
    },
    "SubtensorModule.Owner": { value: (args) => devnet.state.hotkeyOwner[str(args[0])] },
    "SubtensorModule.TotalHotkeyAlpha": {
      value: (args) => devnet.state.subnets[String(num(args[1]))]?.stake[str(args[0])],
    },
    "Commitments.CommitmentOf": {
      value: (args) => {
        const c = devnet.commitment(num(args[0]), str(args[1]));
        if (!c) return undefined;
        const hex = `0x${Buffer.from(c.data).toString("hex")}`;
        return { deposit: 0, block: c.block, info: { fields: [{ [`Raw${c.data.length}`]: hex }] } };
      },
      keys: () => subnets().flatMap((s) => Object.keys(s.commitments ?? {}).map((hotkey) => [s.netuid, hotkey])),
    },
    "Commitments.LastCommitment": { value: (args) => devnet.commitment(num(args[0]), str(args[1]))?.block },
    "Drand.LastStoredRound": { value: () => devnet.lastStoredRound() },
    // The devnet's own beacon: a client that reads the beacon from chain (as the adapter does) encrypts to it.
    "Drand.BeaconConfig": {
      // A fractional period (a fast in-process demo beacon) has no u32 form: no config rather than a wrong one.
      value: () =>
        !Number.isInteger(devnet.state.beacon.period)
          ? undefined
          : {
              publicKey: devnet.state.beacon.publicKeyHex,
              period: devnet.state.beacon.period,
              genesisTime: devnet.state.beacon.genesisTime,
              hash: "0x",
              groupHash: "0x",
              schemeId: "bls-unchained-g1-rfc9380",
              metadata: { beaconId: "devnet" },
            },
    },
    "Timestamp.Now": { value: (_args, block) => devnet.chainTimeMs(block) },
    "System.Number": { value: () => devnet.block },
    "System.Account": {
      value: (args) => ({
        nonce: devnet.state.nonces[str(args[0])] ?? 0,
        consumers: 0,
        providers: 1,
        sufficients: 0,
        data: { free: 0, reserved: 0, frozen: 0, flags: 0 },
      }),
    },
  };
  return sources;
}
