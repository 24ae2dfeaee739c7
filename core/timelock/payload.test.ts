import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { concatBytes, u64LE } from "./bytes.ts";
import { TimelockError } from "./errors.ts";
import { decodeWeightsPayload, encodeWeightsPayload } from "./payload.ts";
import { encodeCompactLength, encodeU16Vec, ScaleReader } from "./scale.ts";

const ALICE = hexToBytes("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d");
const EXAMPLE_HEX =
  "80d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d0c0000010002000cffff000064000100000000000000";

describe("WeightsTlockPayload SCALE", () => {
  it("encodes the TIMELOCK.md §3 example byte for byte (55 bytes)", () => {
    const bytes = encodeWeightsPayload({ hotkey: ALICE, uids: [0, 1, 2], values: [65535, 0, 100], versionKey: 1n });
    expect(bytes.length).toBe(55);
    expect(bytesToHex(bytes)).toBe(EXAMPLE_HEX);
  });

  it("decodes the example back, hotkey included", () => {
    const decoded = decodeWeightsPayload(hexToBytes(EXAMPLE_HEX));
    expect(decoded.hotkey).toEqual(ALICE);
    expect(decoded).toMatchObject({ uids: [0, 1, 2], values: [65535, 0, 100], versionKey: 1n });
  });

  it("decodes the legacy three-field form with hotkey null", () => {
    const legacy = concatBytes(encodeU16Vec([3, 7]), encodeU16Vec([10, 20]), u64LE(900n));
    expect(decodeWeightsPayload(legacy)).toEqual({ hotkey: null, uids: [3, 7], values: [10, 20], versionKey: 900n });
  });

  it("round-trips long vectors that need two-byte compact lengths", () => {
    const uids = Array.from({ length: 300 }, (_, i) => i);
    const values = uids.map((i) => (i * 217) % 65536);
    const bytes = encodeWeightsPayload({ hotkey: ALICE, uids, values, versionKey: (1n << 64n) - 1n });
    expect(decodeWeightsPayload(bytes)).toMatchObject({ uids, values, versionKey: (1n << 64n) - 1n });
  });

  it("refuses bad input to encode", () => {
    const base = { hotkey: ALICE, uids: [1], values: [1], versionKey: 0n };
    expect(() => encodeWeightsPayload({ ...base, hotkey: ALICE.slice(1) })).toThrow(TimelockError);
    expect(() => encodeWeightsPayload({ ...base, uids: [1, 2] })).toThrow(TimelockError);
    expect(() => encodeWeightsPayload({ ...base, values: [65536] })).toThrow(TimelockError);
    expect(() => encodeWeightsPayload({ ...base, uids: [-1] })).toThrow(TimelockError);
    expect(() => encodeWeightsPayload({ ...base, versionKey: -1n })).toThrow(TimelockError);
  });

  it("throws MalformedPayload on bytes that are neither form", () => {
    for (const bad of [new Uint8Array(0), Uint8Array.of(0x80, 1, 2), hexToBytes(EXAMPLE_HEX).slice(0, 40)]) {
      expect(() => decodeWeightsPayload(bad)).toThrow(expect.objectContaining({ code: "MalformedPayload" }));
    }
  });
});

describe("SCALE compact lengths", () => {
  it("uses the one, two and four byte modes at their boundaries", () => {
    expect(bytesToHex(encodeCompactLength(0))).toBe("00");
    expect(bytesToHex(encodeCompactLength(63))).toBe("fc");
    expect(bytesToHex(encodeCompactLength(64))).toBe("0101");
    expect(bytesToHex(encodeCompactLength(16383))).toBe("fdff");
    expect(bytesToHex(encodeCompactLength(16384))).toBe("02000100");
    for (const n of [0, 1, 63, 64, 1177, 16383, 16384, 2 ** 30 - 1]) {
      expect(new ScaleReader(encodeCompactLength(n)).compactLength()).toBe(n);
    }
  });

  it("rejects non-canonical encodings like parity-scale-codec", () => {
    expect(() => new ScaleReader(Uint8Array.of(0x05, 0x00)).compactLength()).toThrow(TimelockError);
    expect(() => new ScaleReader(Uint8Array.of(0x02, 0x01, 0x00, 0x00)).compactLength()).toThrow(TimelockError);
  });
});
