import { describe, expect, it } from "vitest";
import type { Metagraph } from "../../core/ports/chain.ts";
import { validatorsOf } from "./validators.ts";

const n = 4;
const base: Metagraph = {
  netuid: 1,
  block: 50,
  n,
  hotkeys: ["v0", "m1", "m2", "v3"],
  coldkeys: ["c0", "c1", "c2", "c3"],
  // A u64 stake beyond 2^53: it must come back exactly.
  stake: [18_446_744_073_709_551_615n, 5n, 0n, 900_000_000_000n],
  active: [true, true, true, true],
  // On a small subnet every uid holds a permit, miners too.
  validatorPermit: [true, true, true, true],
  lastUpdate: [42, 7, 7, 8],
  blockAtRegistration: [0, 1, 2, 3],
  incentive: [0, 30000, 35535, 0],
  consensus: [0, 30000, 35535, 0],
  dividends: [65535, 0, 0, 0],
  validatorTrust: [60000, 0, 0, 0],
  emission: [0n, 0n, 0n, 0n],
  weights: [[[1, 100]], [], [], []],
};

describe("validatorsOf", () => {
  it("lists uids that set weights or earn dividends, and the market's own validators, as the chain stores them", () => {
    expect(validatorsOf(base, new Set(["v3"]))).toEqual([
      {
        uid: 0,
        hotkey: "v0",
        stake: "18446744073709551615",
        validatorPermit: true,
        validatorTrust: 60000,
        dividends: 65535,
        lastWeightsBlock: 42,
      },
      {
        uid: 3,
        hotkey: "v3",
        stake: "900000000000",
        validatorPermit: true,
        validatorTrust: 0,
        dividends: 0,
        lastWeightsBlock: 8,
      },
    ]);
  });

  it("leaves out a permitted uid that never acted as a validator", () => {
    expect(validatorsOf(base, new Set()).map((v) => v.uid)).toEqual([0]);
  });
});
