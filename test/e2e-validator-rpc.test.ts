import { ApiPromise, WsProvider } from "@polkadot/api";
import type { EventRecord } from "@polkadot/types/interfaces";
import { afterEach, describe, expect, it } from "vitest";
import { SubtensorChain } from "../adapters/chain/subtensor/chain.ts";
import { signerFromUri } from "../adapters/identity/sr25519.ts";
import { type EphemeralMarket, startEphemeralMarket } from "../stacks/ephemeral/stack.ts";
import { DEMO_OWNER_URI } from "../stacks/parts/chain.ts";

/** Every NeuronRegistered event on the chain, with the extrinsic that emitted it (read over @polkadot/api). */
async function registrationsOnChain(url: string) {
  const api = await ApiPromise.create({ provider: new WsProvider(url), throwOnConnect: true, noInitWarn: true });
  try {
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const out: {
      block: number;
      uid: number;
      hotkey: string;
      call: string | null;
      signer: string | null;
      arg: string | null;
    }[] = [];
    for (let block = 0; block <= head; block++) {
      const hash = await api.rpc.chain.getBlockHash(block);
      const { block: body } = await api.rpc.chain.getBlock(hash);
      const system = (await api.at(hash)).query.system as unknown as { events: () => Promise<unknown> };
      const events = (await system.events()) as EventRecord[];
      for (const { phase, event } of events) {
        if (event.section !== "subtensorModule" || event.method !== "NeuronRegistered") continue;
        const [, uid, hotkey] = event.data;
        const xt = phase.isApplyExtrinsic ? body.extrinsics[phase.asApplyExtrinsic.toNumber()] : undefined;
        out.push({
          block,
          uid: Number(uid?.toString()),
          hotkey: String(hotkey?.toString()),
          call: xt ? `${xt.method.section}.${xt.method.method}` : null,
          signer: xt?.isSigned ? xt.signer.toString() : null,
          arg: xt ? String(xt.method.args[1]?.toString()) : null,
        });
      }
    }
    return out;
  } finally {
    await api.disconnect();
  }
}

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

    // The miners' registrations were signed burned_register extrinsics, each by the miner's own coldkey (not the
    // owner's): every non-validator uid of the metagraph read above was registered that way.
    const url = market.chain.rpcUrl;
    if (!url) throw new Error("no RPC url");
    const registrations = await registrationsOnChain(url);
    const owner = signerFromUri(DEMO_OWNER_URI).address;
    const miners = overRpc.hotkeys.map((hotkey, u) => ({ hotkey, uid: u })).filter((m) => m.uid !== uid);
    expect(miners.length).toBeGreaterThan(3);
    for (const miner of miners) {
      const reg = registrations.find((r) => r.hotkey === miner.hotkey);
      expect(reg, `registration of uid ${miner.uid}`).toMatchObject({
        uid: miner.uid,
        call: "subtensorModule.burnedRegister",
        arg: miner.hotkey,
        signer: overRpc.coldkeys[miner.uid],
      });
      expect(reg?.signer).not.toBe(owner);
    }
    expect(new Set(miners.map((m) => overRpc.coldkeys[m.uid])).size).toBe(miners.length);
  });
});
