import { u8aToHex } from "@polkadot/util";
import { describe, expect, it } from "vitest";
import { servedMetadata } from "../devnet/rpc/metadata.ts";
import { encodeSetCommitmentCall } from "./encode.ts";

describe("Commitments.set_commitment encoder", () => {
  it("matches what @polkadot/api builds from mainnet's metadata, for a digest and an empty field", () => {
    const { decorated, registry } = servedMetadata(true);
    const build = (
      decorated.tx as unknown as Record<string, Record<string, (...a: unknown[]) => { toU8a(): Uint8Array }>>
    ).commitments?.setCommitment;
    if (!build) throw new Error("no set_commitment in mainnet's metadata");
    for (const data of [new Uint8Array(32).map((_, i) => 255 - i), new Uint8Array(0), new Uint8Array(128).fill(9)]) {
      const call = registry.createType("Call", build(3, { fields: [{ [`Raw${data.length}`]: u8aToHex(data) }] }));
      expect(u8aToHex(encodeSetCommitmentCall({ netuid: 3, data }))).toBe(u8aToHex(call.toU8a()));
    }
    expect(() => encodeSetCommitmentCall({ netuid: 3, data: new Uint8Array(129) })).toThrow(RangeError);
  });
});
