/**
 * Decoders of what the NeuronInfoRuntimeApi returns (`rpc_info/neuron_info.rs`), with explicit type definitions so
 * they work on raw bytes without a node's metadata. Decoded values are re-checked with zod before use.
 */
import { TypeRegistry } from "@polkadot/types";
import { u8aEq } from "@polkadot/util";
import { z } from "zod";
import type { Metagraph } from "../../../core/ports/chain.ts";

/** Struct layouts exactly as subtensor declares them (field order is the encoding). */
export const SUBTENSOR_TYPES = {
  AxonInfo: {
    block: "u64",
    version: "u32",
    ip: "u128",
    port: "u16",
    ip_type: "u8",
    protocol: "u8",
    placeholder1: "u8",
    placeholder2: "u8",
  },
  PrometheusInfo: { block: "u64", version: "u32", ip: "u128", port: "u16", ip_type: "u8" },
  NeuronInfoLite: {
    hotkey: "AccountId32",
    coldkey: "AccountId32",
    uid: "Compact<u16>",
    netuid: "Compact<u16>",
    active: "bool",
    axon_info: "AxonInfo",
    prometheus_info: "PrometheusInfo",
    stake: "Vec<(AccountId32, Compact<u64>)>",
    rank: "Compact<u16>",
    emission: "Compact<u64>",
    incentive: "Compact<u16>",
    consensus: "Compact<u16>",
    trust: "Compact<u16>",
    validator_trust: "Compact<u16>",
    dividends: "Compact<u16>",
    last_update: "Compact<u64>",
    validator_permit: "bool",
    pruning_score: "Compact<u16>",
  },
  NeuronInfo: {
    hotkey: "AccountId32",
    coldkey: "AccountId32",
    uid: "Compact<u16>",
    netuid: "Compact<u16>",
    active: "bool",
    axon_info: "AxonInfo",
    prometheus_info: "PrometheusInfo",
    stake: "Vec<(AccountId32, Compact<u64>)>",
    rank: "Compact<u16>",
    emission: "Compact<u64>",
    incentive: "Compact<u16>",
    consensus: "Compact<u16>",
    trust: "Compact<u16>",
    validator_trust: "Compact<u16>",
    dividends: "Compact<u16>",
    last_update: "Compact<u64>",
    validator_permit: "bool",
    weights: "Vec<(Compact<u16>, Compact<u16>)>",
    bonds: "Vec<(Compact<u16>, Compact<u16>)>",
    pruning_score: "Compact<u16>",
  },
} as const;

let shared: TypeRegistry | undefined;
/** A registry that knows subtensor's runtime-API structs (ss58 prefix 42). */
export function subtensorRegistry(): TypeRegistry {
  if (!shared) {
    shared = new TypeRegistry();
    shared.register(SUBTENSOR_TYPES);
  }
  return shared;
}

const amount = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]).transform((v) => BigInt(v));
const u16 = z.number().int().min(0).max(65535);
const pairs = z.array(z.tuple([u16, u16]));

const liteFields = {
  hotkey: z.string(),
  coldkey: z.string(),
  uid: u16,
  netuid: u16,
  active: z.boolean(),
  stake: z.array(z.tuple([z.string(), amount])),
  emission: amount,
  incentive: u16,
  consensus: u16,
  trust: u16,
  validator_trust: u16,
  dividends: u16,
  last_update: amount,
  validator_permit: z.boolean(),
  pruning_score: u16,
};
const neuronLiteSchema = z.object(liteFields);
const neuronSchema = z.object({ ...liteFields, weights: pairs, bonds: pairs });

export type NeuronLite = z.infer<typeof neuronLiteSchema>;
export type Neuron = z.infer<typeof neuronSchema>;

/**
 * `Vec<NeuronInfoLite>` as `get_neurons_lite` returns it. The decoder pads a short input with zeros, so the
 * bytes are re-encoded and compared: truncated or padded input throws.
 */
export function decodeNeuronInfoLiteVec(bytes: Uint8Array): NeuronLite[] {
  const codec = subtensorRegistry().createType("Vec<NeuronInfoLite>", bytes);
  if (!u8aEq(codec.toU8a(), bytes)) throw new Error("bytes are not exactly one Vec<NeuronInfoLite>");
  return z.array(neuronLiteSchema).parse(codec.toPrimitive());
}

/** `Vec<NeuronInfo>` as `get_neurons` returns it (with weights and bonds). */
export function decodeNeuronInfoVec(bytes: Uint8Array): Neuron[] {
  const codec = subtensorRegistry().createType("Vec<NeuronInfo>", bytes);
  if (!u8aEq(codec.toU8a(), bytes)) throw new Error("bytes are not exactly one Vec<NeuronInfo>");
  return z.array(neuronSchema).parse(codec.toPrimitive());
}

/** Stake of a neuron as the runtime API reports it: the sum over its (coldkey, alpha) entries. */
function totalStake(neuron: NeuronLite): bigint {
  return neuron.stake.reduce((sum, [, rao]) => sum + rao, 0n);
}

/**
 * Builds the port's Metagraph from decoded neurons (sorted by uid). BlockAtRegistration is not part of NeuronInfo:
 * pass it from storage, or it is reported as 0.
 */
export function metagraphFromNeurons(
  netuid: number,
  block: number,
  neurons: readonly (NeuronLite | Neuron)[],
  blockAtRegistration: readonly number[] = [],
): Metagraph {
  const ns = [...neurons].sort((a, b) => a.uid - b.uid);
  return {
    netuid,
    block,
    n: ns.length,
    hotkeys: ns.map((n) => n.hotkey),
    coldkeys: ns.map((n) => n.coldkey),
    stake: ns.map(totalStake),
    active: ns.map((n) => n.active),
    validatorPermit: ns.map((n) => n.validator_permit),
    lastUpdate: ns.map((n) => Number(n.last_update)),
    blockAtRegistration: ns.map((n) => blockAtRegistration[n.uid] ?? 0),
    incentive: ns.map((n) => n.incentive),
    consensus: ns.map((n) => n.consensus),
    dividends: ns.map((n) => n.dividends),
    validatorTrust: ns.map((n) => n.validator_trust),
    emission: ns.map((n) => n.emission),
    weights: ns.map((n) => ("weights" in n ? n.weights.map(([j, w]) => [j, w] as const) : [])),
  };
}
