import { encodeAddress } from "@polkadot/util-crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeNeuronInfoLiteVec, decodeNeuronInfoVec, subtensorRegistry } from "./metagraph-decode.ts";
import { type NeuronInput, readNeuronInfoLiteVec, readNeuronInfoVec, writeNeuronInfoVec } from "./neuron-codec.ts";

const account = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => encodeAddress(b, 42));
const u16 = fc.integer({ min: 0, max: 65535 });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const pairs = fc.array(fc.tuple(u16, u16), { maxLength: 6 });
const neuron: fc.Arbitrary<NeuronInput> = fc.record({
  hotkey: account,
  coldkey: account,
  uid: u16,
  netuid: u16,
  active: fc.boolean(),
  stake: fc.array(fc.tuple(account, u64), { maxLength: 2 }),
  emission: u64,
  incentive: u16,
  consensus: u16,
  validatorTrust: u16,
  dividends: u16,
  lastUpdate: fc.integer({ min: 0, max: 2 ** 40 }),
  validatorPermit: fc.boolean(),
  weights: pairs,
  bonds: pairs,
});

/** The same neurons as @polkadot/types builds them from the struct definitions. */
function reference(list: readonly NeuronInput[], type: "NeuronInfo" | "NeuronInfoLite"): Uint8Array {
  const zeroAxon = { block: 0, version: 0, ip: 0, port: 0, ip_type: 0, protocol: 0, placeholder1: 0, placeholder2: 0 };
  const values = list.map((n) => ({
    hotkey: n.hotkey,
    coldkey: n.coldkey,
    uid: n.uid,
    netuid: n.netuid,
    active: n.active,
    axon_info: zeroAxon,
    prometheus_info: { block: 0, version: 0, ip: 0, port: 0, ip_type: 0 },
    stake: n.stake,
    rank: 0,
    emission: n.emission,
    incentive: n.incentive,
    consensus: n.consensus,
    trust: 0,
    validator_trust: n.validatorTrust,
    dividends: n.dividends,
    last_update: n.lastUpdate,
    validator_permit: n.validatorPermit,
    weights: n.weights,
    bonds: n.bonds,
    pruning_score: 65535,
  }));
  return subtensorRegistry().createType(`Vec<${type}>`, values).toU8a();
}

describe("direct NeuronInfo codec", () => {
  it("writes what @polkadot/types writes, and reads back what it reads", () => {
    fc.assert(
      fc.property(fc.array(neuron, { maxLength: 4 }), (list) => {
        const full = reference(list, "NeuronInfo");
        expect(writeNeuronInfoVec(list, true)).toEqual(full);
        expect(readNeuronInfoVec(full)).toEqual(decodeNeuronInfoVec(full));
        const lite = reference(list, "NeuronInfoLite");
        expect(writeNeuronInfoVec(list, false)).toEqual(lite);
        expect(readNeuronInfoLiteVec(lite)).toEqual(decodeNeuronInfoLiteVec(lite));
      }),
      { numRuns: 60 },
    );
  });

  it("refuses truncated, padded and over-long input", () => {
    const bytes = reference([], "NeuronInfo");
    expect(readNeuronInfoVec(bytes)).toEqual([]);
    expect(() => readNeuronInfoVec(Uint8Array.of(...bytes, 0))).toThrow(/exactly/);
    // A length of 2^30 neurons in a 5-byte input.
    expect(() => readNeuronInfoVec(Uint8Array.of(0x03, 0, 0, 0, 0x40))).toThrow(/longer than its bytes/);
    const one = writeNeuronInfoVec([{ ...sample(), weights: [[1, 2]] }], true);
    expect(() => readNeuronInfoVec(one.subarray(0, one.length - 1))).toThrow(/end early|exactly/);
  });
});

function sample(): NeuronInput {
  const key = encodeAddress(new Uint8Array(32).fill(7), 42);
  return {
    hotkey: key,
    coldkey: key,
    uid: 0,
    netuid: 1,
    active: true,
    stake: [[key, 5n]],
    emission: 0n,
    incentive: 0,
    consensus: 0,
    validatorTrust: 0,
    dividends: 0,
    lastUpdate: 0,
    validatorPermit: false,
    weights: [],
    bonds: [],
  };
}
