import { describe, expect, it } from "vitest";
import { signerFromUri } from "../../identity/sr25519.ts";
import { testSubnet } from "./testing.ts";

describe("epoch payouts as subtensor's", () => {
  it("burns the incentive of every hotkey of the owner's coldkey, pays other miners, empties non-permit bond rows", async () => {
    const t = await testSubnet();
    const ownersMiner = signerFromUri("//OwnersMiner");
    const registered = t.devnet.register(t.owner.address, ownersMiner.address, t.netuid);
    if (!registered.ok) throw new Error(registered.error);
    const [m0] = t.miners;
    if (!m0) throw new Error("no miner");
    const m = t.devnet.metagraph(t.netuid);
    const uid0 = m?.hotkeys.indexOf(m0.address) ?? -1;
    t.devnet.advance(2);
    const set = await t.chain.setWeights(t.validator, t.netuid, [uid0, registered.uid], [1, 1], 0n);
    expect(set.ok).toBe(true);
    t.devnet.advance(25);
    const after = t.devnet.metagraph(t.netuid);
    expect(after?.incentive[registered.uid]).toBeGreaterThan(0);
    expect(after?.incentive[uid0]).toBeGreaterThan(0);
    expect(t.devnet.earned(ownersMiner.address)).toBe(0n);
    expect(t.devnet.earned(m0.address)).toBeGreaterThan(0n);
    const bonds = t.devnet.bonds(t.netuid);
    after?.validatorPermit.forEach((permit, uid) => {
      if (!permit) expect(bonds[uid], `bonds of uid ${uid}`).toEqual([]);
    });
  });
});

describe("the commit mask of an epoch", () => {
  it("counts live v2 commits and leaves out expired ones", async () => {
    const { earliestCommitBlocks } = await import("./epoch-runner.ts");
    const t = await testSubnet({ commitRevealWeightsEnabled: true, revealPeriodEpochs: 1 });
    const subnet = t.devnet.state.subnets[String(t.netuid)];
    if (!subnet) throw new Error("no subnet");
    const epoch = subnet.epochIndex;
    subnet.weightCommits[t.validator.address] = [
      { hash: "0x01", epoch: epoch - 5, block: 1 },
      { hash: "0x02", epoch, block: 7 },
    ];
    expect(earliestCommitBlocks(subnet, t.devnet.block)[0]).toBe(7);
    subnet.weightCommits[t.validator.address] = [{ hash: "0x01", epoch: epoch - 5, block: 1 }];
    expect(earliestCommitBlocks(subnet, t.devnet.block)[0]).toBeNull();
  });
});
