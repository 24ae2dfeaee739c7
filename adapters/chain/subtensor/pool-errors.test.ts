import { describe, expect, it } from "vitest";
import { poolRefusal } from "./pool-errors.ts";

describe("poolRefusal", () => {
  it("names subtensor's custom codes by the call they refused", () => {
    const msg = (n: number) => `1010: Invalid Transaction: Custom error: ${n}`;
    expect(poolRefusal(msg(1), "setWeights")?.name).toBe("NotEnoughStakeToSetWeights");
    expect(poolRefusal(msg(6), "setWeights")?.name).toBe("SettingWeightsTooFast");
    expect(poolRefusal(msg(6), "commit")?.name).toBe("CommittingWeightsTooFast");
    expect(poolRefusal(msg(15), "commit")?.name).toBe("InvalidRevealRound");
    expect(poolRefusal(msg(16), "reveal")?.name).toBe("NoWeightsCommitFound");
    expect(poolRefusal(msg(17), "reveal")?.name).toBe("RevealTooEarly");
    expect(poolRefusal(msg(99), "reveal")?.name).toBe("CustomError99");
  });
  it("marks only nonce refusals as safe to sign again", () => {
    expect(poolRefusal("1010: Invalid Transaction: Transaction is outdated", "other")).toEqual({
      name: "Stale",
      retryable: true,
    });
    expect(poolRefusal("1010: Invalid Transaction: Transaction has a bad signature", "other")).toEqual({
      name: "BadProof",
      retryable: false,
    });
    expect(poolRefusal("1014: Priority is too low: (0 vs 0)", "other")?.retryable).toBe(false);
    expect(poolRefusal("4003: Client error: boom", "other")).toBeNull();
  });
});
