import { TypeRegistry } from "@polkadot/types";
import { u8aConcat } from "@polkadot/util";
import { decodeAddress, encodeAddress } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { decodeNeuronInfoLiteVec, decodeNeuronInfoVec, metagraphFromNeurons } from "./metagraph-decode.ts";

const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const BOB = encodeAddress(new Uint8Array(32).fill(2), 42);

/** One NeuronInfoLite laid out by hand, byte by byte, from `rpc_info/neuron_info.rs`. */
function handEncodedLite(): Uint8Array {
  return u8aConcat(
    Uint8Array.of(4), // Vec length 1 (compact)
    decodeAddress(ALICE), // hotkey
    decodeAddress(BOB), // coldkey
    Uint8Array.of(0x04, 0x04, 0x01), // uid 1, netuid 1 (compact), active
    new Uint8Array(34), // AxonInfo
    new Uint8Array(31), // PrometheusInfo
    Uint8Array.of(0x04), // stake: one entry
    decodeAddress(BOB),
    Uint8Array.of(0xa1, 0x0f), // compact 1000
    Uint8Array.of(0x00, 0x14, 0x91, 0x01, 0x00, 0x00, 0x00, 0x00), // rank 0, emission 5, incentive 100, consensus, trust, vtrust, dividends
    Uint8Array.of(0x1c, 0x01, 0xfe, 0xff, 0x03, 0x00), // last_update 7, permit, pruning_score 65535
  );
}

describe("metagraph decoding", () => {
  it("decodes hand-laid NeuronInfoLite bytes", () => {
    const [n] = decodeNeuronInfoLiteVec(handEncodedLite());
    expect(n).toMatchObject({ hotkey: ALICE, coldkey: BOB, uid: 1, netuid: 1, active: true, incentive: 100 });
    expect(n?.emission).toBe(5n);
    expect(n?.last_update).toBe(7n);
    expect(n?.validator_permit).toBe(true);
    expect(n?.stake).toEqual([[BOB, 1000n]]);
  });

  it("decodes NeuronInfo (with weights) encoded by an independently declared registry", () => {
    const registry = new TypeRegistry();
    const axon = "(u64, u32, u128, u16, u8, u8, u8, u8)";
    const prom = "(u64, u32, u128, u16, u8)";
    const neuron = (hot: string, uid: number, weights: [number, number][]) => [
      hot,
      BOB,
      uid,
      2,
      true,
      [0, 0, 0, 0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [[BOB, 2n ** 40n]],
      0,
      77n,
      200,
      300,
      0,
      400,
      500,
      9n,
      false,
      weights,
      [],
      65535,
    ];
    const type = `Vec<(AccountId32, AccountId32, Compact<u16>, Compact<u16>, bool, ${axon}, ${prom}, Vec<(AccountId32, Compact<u64>)>, Compact<u16>, Compact<u64>, Compact<u16>, Compact<u16>, Compact<u16>, Compact<u16>, Compact<u16>, Compact<u64>, bool, Vec<(Compact<u16>, Compact<u16>)>, Vec<(Compact<u16>, Compact<u16>)>, Compact<u16>)>`;
    const bytes = registry.createType(type, [neuron(BOB, 1, []), neuron(ALICE, 0, [[1, 65535]])]).toU8a();
    const decoded = decodeNeuronInfoVec(bytes);
    const m = metagraphFromNeurons(2, 100, decoded, [10, 20]);
    expect(m.hotkeys).toEqual([ALICE, BOB]);
    expect(m.weights).toEqual([[[1, 65535]], []]);
    expect(m.stake).toEqual([2n ** 40n, 2n ** 40n]);
    expect(m.blockAtRegistration).toEqual([10, 20]);
    expect(m.validatorTrust).toEqual([400, 400]);
    expect(m.emission).toEqual([77n, 77n]);
  });

  it("refuses truncated or padded bytes", () => {
    const bytes = handEncodedLite();
    expect(() => decodeNeuronInfoLiteVec(bytes.slice(0, -3))).toThrow();
    expect(() => decodeNeuronInfoLiteVec(u8aConcat(bytes, Uint8Array.of(0)))).toThrow();
  });
});
