import { describe, expect, it } from "vitest";
import { TimelockError } from "./errors.ts";
import { revealRoundForBlock, revealRoundLegacy } from "./reveal-round.ts";

/*
 * Worked case of TIMELOCK.md §7(h), by hand from the SDK formula (tempo 100, block 1000, netuid 1, period 2, 12 s):
 *   current_epoch = ⌊(1000 + 1 + 1)/101⌋ = ⌊1002/101⌋ = 9
 *   reveal_epoch  = 9 + 2 = 11
 *   first_reveal  = 11·101 − 2 = 1109; target = 1109 + 3 = 1112; blocks ahead = 112; seconds = 1344
 *   now = 1_700_000_000: ⌊(1_700_000_000 + 1344 − 1_692_803_367)/3⌋ = ⌊7_197_977/3⌋ = 2_399_325
 */
const WORKED = { block: 1000, netuid: 1, tempo: 100, revealPeriodEpochs: 2, nowSeconds: 1_700_000_000 };

describe("revealRoundLegacy", () => {
  it("reproduces the worked case, with block_time defaulting to 12 s", () => {
    expect(revealRoundLegacy(WORKED)).toBe(2_399_325n);
    expect(revealRoundLegacy({ ...WORKED, blockTimeSeconds: 12 })).toBe(2_399_325n);
  });

  it("moves one epoch later once block + netuid + 1 crosses a multiple of tempo + 1", () => {
    // block 1007: ⌊1009/101⌋ = 9 -> target 1112, 105 blocks = 1260 s -> ⌊(7_196_633 + 1260)/3⌋ = 2_399_297
    expect(revealRoundLegacy({ ...WORKED, block: 1007 })).toBe(2_399_297n);
    // block 1008: ⌊1010/101⌋ = 10 -> reveal epoch 12, target 12·101 − 2 + 3 = 1213, 205 blocks = 2460 s -> 2_399_697
    expect(revealRoundLegacy({ ...WORKED, block: 1008 })).toBe(2_399_697n);
  });

  it("scales with a fast block time and with the reveal period", () => {
    // 112 blocks at 0.25 s = 28 s -> ⌊(7_196_633 + 28)/3⌋ = 2_398_887
    expect(revealRoundLegacy({ ...WORKED, blockTimeSeconds: 0.25 })).toBe(2_398_887n);
    // period 1: target 10·101 − 2 + 3 = 1011, 11 blocks = 132 s -> ⌊7_196_765/3⌋ = 2_398_921
    expect(revealRoundLegacy({ ...WORKED, revealPeriodEpochs: 1 })).toBe(2_398_921n);
  });

  it("never returns a round below 1", () => {
    expect(revealRoundLegacy({ ...WORKED, nowSeconds: 0 })).toBe(1n);
  });

  it("refuses negative or fractional block numbers", () => {
    expect(() => revealRoundLegacy({ ...WORKED, block: -1 })).toThrow(TimelockError);
    expect(() => revealRoundLegacy({ ...WORKED, tempo: 1.5 })).toThrow(TimelockError);
    expect(() => revealRoundLegacy({ ...WORKED, nowSeconds: Number.NaN })).toThrow(TimelockError);
  });
});

describe("revealRoundForBlock", () => {
  it("agrees with the legacy formula when given the same first reveal block", () => {
    const round = revealRoundForBlock({ targetBlock: 1109, currentBlock: 1000, nowSeconds: WORKED.nowSeconds });
    expect(round).toBe(revealRoundLegacy(WORKED));
  });

  it("honours the security offset and a target already passed", () => {
    // no offset: 109 blocks = 1308 s -> ⌊7_197_941/3⌋ = 2_399_313
    expect(
      revealRoundForBlock({
        targetBlock: 1109n,
        currentBlock: 1000n,
        nowSeconds: WORKED.nowSeconds,
        securityOffsetBlocks: 0,
      }),
    ).toBe(2_399_313n);
    // target behind the head: zero blocks ahead -> ⌊7_196_633/3⌋ = 2_398_877
    expect(revealRoundForBlock({ targetBlock: 900, currentBlock: 1000, nowSeconds: WORKED.nowSeconds })).toBe(
      2_398_877n,
    );
  });
});
