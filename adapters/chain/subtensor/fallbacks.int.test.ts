/**
 * The adapter against a runtime exactly as mainnet's late-2025 capture (no dynamic-tempo items): it falls back where
 * the runtime lacks an item, and only there; a transient failure of an API the runtime has fails the call.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startDevnetRpc } from "../devnet/rpc/index.ts";
import { testSubnet } from "../devnet/testing.ts";
import { connectSubtensor } from "./chain.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function connect(mainnetOnly: boolean) {
  const t = await testSubnet({ activityCutoffFactorMilli: 20_000 });
  const rpc = await startDevnetRpc({ devnet: t.devnet, mainnetOnly });
  const chain = await connectSubtensor({ url: rpc.url });
  cleanup = async () => {
    await chain.close();
    await rpc.close();
  };
  return { t, chain };
}

describe("fallbacks for an older runtime", () => {
  it("ActivityCutoffFactorMilli comes from the absolute ActivityCutoff; epochs from the legacy schedule", async () => {
    const { t, chain } = await connect(true);
    expect(chain.api.query.subtensorModule?.activityCutoffFactorMilli).toBeUndefined();
    const hp = await chain.hyperparams(t.netuid);
    // tempo 10, 20 000 ‰ → 200 blocks, stored as ActivityCutoff on the old runtime → 20 000 ‰ again.
    expect(hp.activityCutoffFactorMilli).toBe(20_000);
    const block = await chain.currentBlock();
    const next = await chain.nextEpochStartBlock(t.netuid);
    expect((next + t.netuid + 1) % (hp.tempo + 1)).toBe(0);
    expect(next).toBeGreaterThan(block);
    expect(await chain.epochIndex(t.netuid)).toBe(Math.floor((block + t.netuid + 1) / (hp.tempo + 1)));
  });

  it("on a runtime with the items they are read, and a failed epoch API call fails instead of guessing", async () => {
    const { t, chain } = await connect(false);
    expect((await chain.hyperparams(t.netuid)).activityCutoffFactorMilli).toBe(20_000);
    expect(await chain.nextEpochStartBlock(t.netuid)).toBe(t.devnet.nextEpochStartBlock(t.netuid));
    Object.defineProperty(chain.api.rpc.state, "call", {
      configurable: true,
      value: async () => {
        throw new Error("WebSocket is not connected");
      },
    });
    await expect(chain.nextEpochStartBlock(t.netuid)).rejects.toThrow(/not connected/);
  });
});
