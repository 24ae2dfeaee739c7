import { u8aToHex } from "@polkadot/util";
import { decodeAddress, xxhashAsU8a } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { storageKey, subtensorStorageKeys } from "./storage-keys.ts";

const ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const prefix = (item: string) =>
  u8aToHex(xxhashAsU8a("SubtensorModule", 128)) + u8aToHex(xxhashAsU8a(item, 128)).slice(2);

describe("storage keys", () => {
  it("reproduces the well-known System.Account key of Alice (twox128 + Blake2_128Concat)", () => {
    expect(storageKey("System", "Account", [{ hasher: "Blake2_128Concat", bytes: decodeAddress(ALICE) }])).toBe(
      "0x26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9de1e86a9a8c739864cf3cc5ec2bea59fd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
    );
  });

  it("keys Identity maps by the raw little-endian netuid and uid", () => {
    expect(subtensorStorageKeys.byNetuid("Tempo", 0x0102)).toBe(`${prefix("Tempo")}0201`);
    expect(subtensorStorageKeys.weights(1, 300)).toBe(`${prefix("Weights")}01002c01`);
  });

  it("hashes Twox64Concat and Blake2_128Concat keys as declared", () => {
    const reveal = subtensorStorageKeys.revealPeriodEpochs(1);
    expect(reveal.startsWith(prefix("RevealPeriodEpochs"))).toBe(true);
    expect(reveal.slice(prefix("RevealPeriodEpochs").length)).toBe(
      `${u8aToHex(xxhashAsU8a(Uint8Array.of(1, 0), 64)).slice(2)}0100`,
    );
    const uids = subtensorStorageKeys.uids(1, ALICE);
    // 16-byte blake2 digest, then the 32-byte account id.
    expect(uids.length).toBe(prefix("Uids").length + 4 + 32 + 64);
    expect(uids.endsWith(u8aToHex(decodeAddress(ALICE)).slice(2))).toBe(true);
  });
});
