import { hexToBytes } from "@noble/hashes/utils.js";
import { describe, expect, it } from "vitest";
import { assertCommitFits, buildTimelockedCommit, MAX_COMMIT_PLAINTEXT_BYTES } from "./commit.ts";
import { MAX_COMMIT_BYTES, QUICKNET } from "./constants.ts";
import { TimelockError } from "./errors.ts";
import { QUICKNET_SIGNATURES } from "./known-answers.ts";
import { decodeWeightsPayload } from "./payload.ts";
import { tlockDecrypt } from "./tlock.ts";

const pk = hexToBytes(QUICKNET.publicKeyHex);
const hotkey = new Uint8Array(32).fill(7);

function weights(pairs: number) {
  const uids = Array.from({ length: pairs }, (_, i) => i);
  return { hotkey, uids, values: uids.map((i) => 65535 - i), versionKey: 3n };
}

describe("buildTimelockedCommit", () => {
  it("opens with the round signature into the same weights", () => {
    const commit = buildTimelockedCommit({ publicKeyG2: pk, round: 1000n, weights: weights(5) });
    const decoded = decodeWeightsPayload(tlockDecrypt(hexToBytes(QUICKNET_SIGNATURES[1000]), commit));
    expect(decoded).toEqual(weights(5));
  });

  it("accepts 1177 uid/value pairs (4997 bytes) and refuses 1178 (5001 bytes) with CommitTooLarge", () => {
    expect(MAX_COMMIT_PLAINTEXT_BYTES).toBe(4756);
    const largest = buildTimelockedCommit({ publicKeyG2: pk, round: 1000n, weights: weights(1177) });
    expect(largest.length).toBe(4997);
    let thrown: unknown;
    try {
      buildTimelockedCommit({ publicKeyG2: pk, round: 1000n, weights: weights(1178) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TimelockError);
    expect(thrown).toMatchObject({ code: "CommitTooLarge" });
    expect(String((thrown as Error).message)).toMatch(/5001 bytes.*at most 5000/);
  });

  it("assertCommitFits draws the line at 5000 bytes", () => {
    expect(() => assertCommitFits(new Uint8Array(MAX_COMMIT_BYTES))).not.toThrow();
    expect(() => assertCommitFits(new Uint8Array(MAX_COMMIT_BYTES + 1))).toThrow(TimelockError);
  });
});
