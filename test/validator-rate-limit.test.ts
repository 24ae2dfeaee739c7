import { afterEach, describe, expect, it } from "vitest";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

/**
 * A new epoch that begins before the subnet's weights rate limit has passed for the validator (the devnet's short
 * first epoch, a restart, a subnet whose limit exceeds its tempo): the validator neither scores nor claims the epoch
 * and sends nothing the chain would refuse (`SettingWeightsTooFast`); once the limit has passed, a run in the same
 * epoch scores and sets its weights. Real devnet, real extrinsics.
 */
const TEMPO = 20;

describe("validator and the weights rate limit", () => {
  let market: EphemeralMarket | undefined;
  afterEach(async () => {
    await market?.stop();
    market = undefined;
  });

  it("waits for the limit within the epoch instead of sending weights the chain refuses", async () => {
    market = await startEphemeralMarket({
      env: { MARKET_TEMPO: String(TEMPO), MARKET_VALIDATION_ITEMS: "8" },
      routerBootstrapItems: 0,
      validatorTasks: ["digits"],
    });
    const devnet = market.chain.devnet;
    if (!devnet) throw new Error("the ephemeral market runs a devnet");
    const netuid = market.chain.netuid;
    const first = await market.runValidatorEpoch();
    expect(first.submission?.status).toBe("accepted");
    const sentAt = first.submission?.block ?? 0;

    // A limit longer than the gap to the next epoch, shorter than that epoch.
    const limit = TEMPO + 8;
    expect(devnet.setHyperparams(netuid, { weightsRateLimit: limit }).ok).toBe(true);
    const epoch = first.epoch + 1;
    while ((await market.chain.chain.epochIndex(netuid)) < epoch) devnet.advance(1);
    const block = await market.chain.chain.currentBlock();
    expect(block - sentAt).toBeLessThan(limit);

    const early = await market.runValidatorEpoch();
    expect(early.epoch).toBe(epoch);
    expect(early.waitBlocks).toBe(sentAt + limit - block);
    expect(early.skipped).toMatch(/rate limit/);
    expect(early.submission).toBeNull();
    // Nothing scored, nothing claimed: the epoch is still this validator's to send.
    expect(await market.dataPlane.scores.submission(netuid, epoch)).toBeNull();
    expect(await market.dataPlane.scores.epochScores("digits", epoch)).toBeNull();

    devnet.advance(early.waitBlocks ?? 0);
    expect(await market.chain.chain.epochIndex(netuid)).toBe(epoch);
    const later = await market.runValidatorEpoch();
    expect(later.epoch).toBe(epoch);
    expect(later.waitBlocks).toBeUndefined();
    expect(later.submission?.status).toBe("accepted");
    expect(later.scores.map((s) => s.task)).toEqual(["digits"]);
  });
});
