import { TypeRegistry } from "@polkadot/types";
import { hexToU8a, u8aToHex } from "@polkadot/util";
import { describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../../identity/sr25519.ts";
import { encodeSetWeightsCall } from "./encode.ts";
import { payloadToSign, polkadotSigner } from "./signer-bridge.ts";

describe("polkadot signer bridge", () => {
  it("signs the payload bytes a keyring pair would sign, tagged sr25519", async () => {
    await identityReady();
    const registry = new TypeRegistry();
    const hotkey = signerFromUri("//BridgeHotkey");
    const payload = {
      address: hotkey.address,
      blockHash: `0x${"11".repeat(32)}`,
      blockNumber: "0x00000010",
      era: "0x00",
      genesisHash: `0x${"22".repeat(32)}`,
      method: u8aToHex(encodeSetWeightsCall({ netuid: 1, uids: [0, 1], weights: [1, 2], versionKey: 0n })),
      nonce: "0x00000003",
      specVersion: "0x00000001",
      tip: "0x00000000000000000000000000000000",
      transactionVersion: "0x00000001",
      signedExtensions: [],
      version: 4,
    } as const;
    const result = await polkadotSigner(registry, hotkey).signPayload?.({ ...payload, signedExtensions: [] });
    const signature = hexToU8a(result?.signature);
    expect(signature[0]).toBe(1);
    const signed = registry.createType("ExtrinsicPayload", payload, { version: 4 }).toU8a({ method: true });
    expect(sr25519Verifier.verify(payloadToSign(signed), signature.slice(1), hotkey.address)).toBe(true);
  });

  it("hashes payloads over 256 bytes before signing, as substrate does", () => {
    const long = new Uint8Array(300).fill(9);
    expect(payloadToSign(long)).toHaveLength(32);
    const short = new Uint8Array(256).fill(9);
    expect(payloadToSign(short)).toBe(short);
  });
});
