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
