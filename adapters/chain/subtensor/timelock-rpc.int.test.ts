/**
 * The validator's timelocked commit (functions/validator/submit.ts) through the subtensor adapter over the devnet's
 * RPC: the beacon is read from chain (pallet_drand BeaconConfig, Timestamp.Now), the commit is accepted, and the
 * devnet opens it in the reveal epoch, so the weights land and TimelockedWeightsRevealed names the validator.
 */
import { afterEach, describe, expect, it } from "vitest";
import { choosePath, submitWeights } from "../../../functions/validator/submit.ts";
import type { ValidatorDeps } from "../../../functions/validator/types.ts";
import { startDevnetRpc } from "../devnet/rpc/index.ts";
import { testSubnet } from "../devnet/testing.ts";
import { connectSubtensor } from "./chain.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe("timelocked weights over RPC", () => {
  it("the validator's commit opens in the reveal epoch and sets its weights", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true, revealPeriodEpochs: 1 });
    const rpc = await startDevnetRpc({ devnet: t.devnet });
    const chain = await connectSubtensor({ url: rpc.url, inclusionTimeoutMs: 10_000 });
    cleanup = async () => {
      await chain.close();
      await rpc.close();
    };
    t.devnet.advance(12);

    const beacon = await chain.timelockBeacon();
    const info = t.devnet.beaconInfo();
    expect(beacon.publicKeyG2).toEqual(info.publicKeyG2);
    expect(beacon.genesisTime).toBe(info.genesisTime);
    expect(beacon.blockTimeSeconds).toBe(1);
    expect(beacon.nowSeconds).toBe(t.devnet.chainTimeMs() / 1000);

    const hp = await chain.hyperparams(t.netuid);
    expect(choosePath(hp)).toEqual({ path: "timelock" });
    const deps = { chain, signer: t.validator, netuid: t.netuid } as unknown as ValidatorDeps;
    const from = await chain.currentBlock();
    const { outcome } = await submitWeights(deps, hp, "timelock", [1, 2], [1000, 3000]);
    expect(outcome).toMatchObject({ ok: true, events: ["TimelockedWeightsCommitted"] });

    const row = async () => (await chain.metagraph(t.netuid)).weights[0];
    for (let i = 0; i < 3 * hp.tempo && (await row())?.length === 0; i++) t.devnet.advance(1);
    expect(await row()).toEqual([
      [1, 21845],
      [2, 65535],
    ]);
    const revealed = (await chain.events(from)).filter((e) => e.name === "TimelockedWeightsRevealed");
    expect(revealed.map((e) => e.data.who)).toEqual([t.validator.address]);
  });
});
