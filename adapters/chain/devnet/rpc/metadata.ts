/**
 * The metadata the devnet serves: Bittensor mainnet's own (captured late 2025, see shared/vectors/README.md), so
 * pallet and call indices, storage hashers, types, events, errors and transaction extensions are mainnet's by
 * construction. Mainnet has since added dynamic-tempo items and MinNonImmuneUids, which the devnet implements; they
 * are appended here with the types subtensor's sources give them (`ActivityCutoffFactorMilli: u32`,
 * `SubnetEpochIndex`/`LastEpochBlock: u64`, `MinNonImmuneUids: u16`, `get_next_epoch_start_block -> Option<u64>`),
 * and nothing mainnet has is changed. `mainnetOnly` serves the
 * capture untouched, so the adapter's fallbacks for an older runtime can be exercised too.
 */
import { readFileSync } from "node:fs";
import { Metadata, TypeRegistry } from "@polkadot/types";
import { expandMetadata } from "@polkadot/types/metadata";
import type { DecoratedMeta } from "@polkadot/types/metadata/decorate/types";
import { compactAddLength, hexToU8a, u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a, xxhashAsU8a } from "@polkadot/util-crypto";

const here = new URL(".", import.meta.url);
const readHex = (name: string) => readFileSync(new URL(name, here), "utf8").trim();

/** The runtime the capture came from calls itself node-subtensor; versions are ours (documented, not mainnet's). */
export const RUNTIME = {
  specName: "node-subtensor",
  implName: "node-subtensor",
  authoringVersion: 1,
  specVersion: 425,
  implVersion: 1,
  transactionVersion: 1,
  systemVersion: 1,
} as const;

/** Runtime APIs advertised in Core_version (name → version); Metadata v2 makes @polkadot/api ask for V15. */
const API_VERSIONS: Record<string, number> = { Metadata: 2, Core: 5, TaggedTransactionQueue: 3, BlockBuilder: 6 };

export interface ServedMetadata {
  readonly registry: TypeRegistry;
  readonly metadata: Metadata;
  readonly decorated: DecoratedMeta;
  /** state_getMetadata (V14, 0x-prefixed SCALE with the magic number). */
  readonly v14Hex: string;
  /** Metadata_metadata_at_version(15): `Option<OpaqueMetadata>`. */
  readonly v15OptionHex: string;
  /** Core_version's `apis`. */
  readonly apis: [string, number][];
}

type Json = Record<string, unknown>;
type TypeEntry = { id: number; type: { def: Json } };

function findTypeId(types: TypeEntry[], match: (def: Json) => boolean): number {
  const found = types.find((t) => match(t.type.def));
  if (!found) throw new Error("mainnet metadata lacks a type the devnet needs");
  return found.id;
}

function primitiveId(types: TypeEntry[], name: string): number {
  return findTypeId(types, (def) => String(def.primitive).toLowerCase() === name);
}

function optionU64Id(types: TypeEntry[]): number {
  const u64 = primitiveId(types, "u64");
  return findTypeId(types, (def) => {
    const variant = def.variant as { variants?: { name: string; fields: { type: number }[] }[] } | undefined;
    const some = variant?.variants?.find((v) => v.name === "Some");
    return variant?.variants?.length === 2 && some?.fields.length === 1 && some.fields[0]?.type === u64;
  });
}

const leU32 = (v: number) => u8aToHex(Uint8Array.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24]));

/** The dynamic-tempo storage items and MinNonImmuneUids, as `pallets/subtensor/src/lib.rs` declares them. */
function laterStorageItems(types: TypeEntry[]): Json[] {
  const u16 = primitiveId(types, "u16");
  const map = (name: string, value: number, fallback: string, docs: string): Json => ({
    name,
    modifier: "Default",
    type: { map: { hashers: ["Identity"], key: u16, value } },
    fallback,
    docs: [docs],
  });
  return [
    map("ActivityCutoffFactorMilli", primitiveId(types, "u32"), leU32(13_889), " Activity cutoff in ‰ of tempo."),
    map("SubnetEpochIndex", primitiveId(types, "u64"), "0x0000000000000000", " Epochs run so far."),
    map("LastEpochBlock", primitiveId(types, "u64"), "0x0000000000000000", " Block of the last epoch."),
    // Added with the pruning rework (get_neuron_to_prune's floor): ValueQuery, DefaultMinNonImmuneUids = 10.
    map("MinNonImmuneUids", u16, "0x0a00", " Minimum required number of non-immortal & non-immune UIDs."),
  ];
}

function patch(json: Json, version: "v14" | "v15"): Json {
  const body = (json.metadata as Json)[version] as Json;
  const types = (body.lookup as { types: TypeEntry[] }).types;
  const pallets = body.pallets as { name: string; storage: { items: Json[] } | null }[];
  const subtensor = pallets.find((p) => p.name === "SubtensorModule");
  if (!subtensor?.storage) throw new Error("mainnet metadata lacks SubtensorModule storage");
  const present = new Set(subtensor.storage.items.map((i) => i.name));
  for (const item of laterStorageItems(types))
    if (!present.has(item.name as string)) subtensor.storage.items.push(item);
  if (version === "v15") {
    const apis = body.apis as { name: string; methods: Json[] }[];
    const info = apis.find((a) => a.name === "SubnetInfoRuntimeApi");
    if (info && !info.methods.some((m) => m.name === "get_next_epoch_start_block"))
      info.methods.push({
        name: "get_next_epoch_start_block",
        inputs: [{ name: "netuid", type: primitiveId(types, "u16") }],
        output: optionU64Id(types),
        docs: [],
      });
  }
  return json;
}

function build(mainnetOnly: boolean): ServedMetadata {
  const scratch = new TypeRegistry();
  const v14 = new Metadata(scratch, readHex("mainnet-metadata-v14.hex") as `0x${string}`);
  const v15Option = scratch.createType("Option<OpaqueMetadata>", hexToU8a(readHex("mainnet-metadata-v15.hex")));
  const v15 = new Metadata(scratch, v15Option.unwrap().toHex());
  const v14Hex = mainnetOnly ? v14.toHex() : new Metadata(scratch, patch(v14.toJSON() as Json, "v14") as never).toHex();
  const v15Bytes = mainnetOnly
    ? v15.toU8a()
    : new Metadata(scratch, patch(v15.toJSON() as Json, "v15") as never).toU8a();
  // Some(OpaqueMetadata): 0x01, then the bytes as a Vec<u8>.
  const v15OptionHex = u8aToHex(u8aConcat(Uint8Array.of(1), compactAddLength(v15Bytes)));

  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, u8aToHex(v15Bytes));
  registry.setMetadata(metadata, undefined, undefined, true);
  const apis: [string, number][] = metadata.asV15.apis.map((api) => {
    const name = api.name.toString();
    return [u8aToHex(blake2AsU8a(name, 64)), API_VERSIONS[name] ?? 1];
  });
  return { registry, metadata, decorated: expandMetadata(registry, metadata), v14Hex, v15OptionHex, apis };
}

const cache = new Map<boolean, ServedMetadata>();
/** Built once per process (the decode takes ~0.5 s): every server shares the registry read-only. */
export function servedMetadata(mainnetOnly = false): ServedMetadata {
  let served = cache.get(mainnetOnly);
  if (!served) {
    served = build(mainnetOnly);
    cache.set(mainnetOnly, served);
  }
  return served;
}

/** twox128(pallet) ++ twox128(item): the prefix every key of a storage item starts with. */
export function itemPrefix(pallet: string, item: string): Uint8Array {
  return u8aConcat(xx128(pallet), xx128(item));
}

function xx128(text: string): Uint8Array {
  return xxhashAsU8a(text, 128);
}
