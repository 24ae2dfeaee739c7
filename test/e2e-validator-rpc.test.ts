import { afterEach, describe, expect, it } from "vitest";
import { SubtensorChain } from "../adapters/chain/subtensor/chain.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";

/**
 * MARKET_CHAIN=rpc: the same market, with the devnet served over Substrate JSON-RPC and the validator, the
 * metagraph reads and the weights going through the subtensor adapter (@polkadot/api over WebSocket).
 */
const TEMPO = 10;

describe("validator epochs through the subtensor adapter (MARKET_CHAIN=rpc)", () => {
  let market: EphemeralMarket | undefined;
  afterEach(async () => {
    await market?.stop();
    market = undefined;
  });

  it("runs three epochs whose weights land on the devnet", async () => {
    market = await startEphemeralMarket({
      env: {
        MARKET_TEMPO: String(TEMPO),
        MARKET_VALIDATION_ITEMS: "16",
        MARKET_CHAIN: "rpc",
        MARKET_DEVNET_RPC_PORT: "0",
      },
      routerBootstrapItems: 0,
    });
    expect(market.chain.chain).toBeInstanceOf(SubtensorChain);
    expect(market.chain.rpcUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const devnet = market.chain.devnet;
    if (!devnet) throw new Error("the ephemeral market runs a devnet");
    const reports = [];
    for (let e = 0; e < 3; e++) {
      reports.push(await market.runValidatorEpoch());
      devnet.advance(TEMPO);
    }
    expect(reports.map((r) => r.submission?.status)).toEqual(["accepted", "accepted", "accepted"]);
    const overRpc = await market.chain.chain.metagraph(market.chain.netuid);
    const embedded = devnet.metagraph(market.chain.netuid);
    const uid = overRpc.hotkeys.indexOf(market.chain.validator.address);
    expect(overRpc.weights[uid]?.length).toBeGreaterThan(0);
    expect(overRpc.weights).toEqual(embedded?.weights.map((row) => row.map(([j, w]) => [j, w])));
    expect(overRpc.incentive).toEqual(embedded?.incentive);
  });
});
