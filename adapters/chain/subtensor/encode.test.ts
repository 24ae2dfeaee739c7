import { TypeRegistry } from "@polkadot/types";
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { decodeAddress } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import {
  encodeBurnedRegisterCall,
  encodeCommitTimelockedWeightsCall,
  encodeCommitWeightsCall,
  encodeRevealWeightsCall,
  encodeSetWeightsCall,
} from "./encode.ts";

const registry = new TypeRegistry();
const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
/** Independent encoding: @polkadot/types tuple of the declared argument types, after the [pallet, call] bytes. */
const viaTypes = (callIndex: number, type: string, value: unknown[]) =>
  u8aToHex(u8aConcat(Uint8Array.of(7, callIndex), registry.createType(type, value).toU8a()));

describe("subtensor call encoders", () => {
  it("set_weights matches (u16, Vec<u16>, Vec<u16>, u64) after 0x0700", () => {
    const call = { netuid: 19, uids: [0, 5, 300], weights: [65535, 12, 0], versionKey: 2_001_000n };
    expect(u8aToHex(encodeSetWeightsCall(call))).toBe(
      viaTypes(0, "(u16, Vec<u16>, Vec<u16>, u64)", [19, [0, 5, 300], [65535, 12, 0], 2_001_000n]),
    );
  });

  it("commit_weights, reveal_weights, commit_timelocked_weights and burned_register match their declared types", () => {
    const hash = new Uint8Array(32).fill(0xab);
    expect(u8aToHex(encodeCommitWeightsCall({ netuid: 3, commitHash: hash }))).toBe(
      viaTypes(96, "(u16, H256)", [3, hash]),
    );
    expect(
      u8aToHex(encodeRevealWeightsCall({ netuid: 3, uids: [1, 2], values: [9, 8], salt: [7, 7, 7], versionKey: 5n })),
    ).toBe(viaTypes(97, "(u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)", [3, [1, 2], [9, 8], [7, 7, 7], 5n]));
    const commit = new Uint8Array(300).map((_, i) => i % 251);
    expect(
      u8aToHex(
        encodeCommitTimelockedWeightsCall({ netuid: 3, commit, revealRound: 123_456_789n, commitRevealVersion: 4 }),
      ),
    ).toBe(viaTypes(113, "(u16, Bytes, u64, u16)", [3, u8aToHex(commit), 123_456_789n, 4]));
    expect(u8aToHex(encodeBurnedRegisterCall({ netuid: 3, hotkey: ALICE }))).toBe(
      viaTypes(7, "(u16, AccountId32)", [3, decodeAddress(ALICE)]),
    );
  });

  it("refuses values outside their SCALE types", () => {
    expect(() => encodeSetWeightsCall({ netuid: 1, uids: [70000], weights: [1], versionKey: 0n })).toThrow(RangeError);
    expect(() => encodeSetWeightsCall({ netuid: 1, uids: [1], weights: [1], versionKey: -1n })).toThrow(RangeError);
    expect(() =>
      encodeCommitTimelockedWeightsCall({
        netuid: 1,
        commit: new Uint8Array(5001),
        revealRound: 1n,
        commitRevealVersion: 4,
      }),
    ).toThrow(RangeError);
  });
});
