import { describe, expect, it } from "vitest";
import { signerFromUri } from "../../../identity/sr25519.ts";
import { testSubnet } from "../testing.ts";

describe("burned registration (devnet)", () => {
  it("appends while there is room and reports the uid", async () => {
    const t = await testSubnet();
    const hot = signerFromUri("//NewHot");
    const outcome = await t.chain.register(t.owner, hot, t.netuid);
    expect(outcome).toMatchObject({ ok: true, events: ["NeuronRegistered:4"] });
    expect((await t.chain.metagraph(t.netuid)).hotkeys[4]).toBe(hot.address);
    expect(await t.chain.register(t.owner, hot, t.netuid)).toMatchObject({ error: "HotKeyAlreadyRegisteredInSubNet" });
    expect(await t.chain.register(t.owner, hot, 99)).toMatchObject({ error: "SubnetNotExists" });
    const second = t.devnet.createSubnet({ ownerColdkey: t.owner.address });
    expect(await t.chain.register(signerFromUri("//OtherCold"), hot, second)).toMatchObject({
      error: "NonAssociatedColdKey",
    });
  });

  it("when full, replaces the lowest-emission non-immune uid and resets its state", async () => {
    const t = await testSubnet({ maxAllowedUids: 4, immunityPeriod: 5 });
    expect((await t.chain.setWeights(t.validator, t.netuid, [1, 2], [1, 1], 0n)).ok).toBe(true);
    t.devnet.advance(10);
    const before = await t.chain.metagraph(t.netuid);
    expect(before.emission[3]).toBe(0n);
    const hot = signerFromUri("//Replacement");
    const outcome = await t.chain.register(t.owner, hot, t.netuid);
    expect(outcome).toMatchObject({ ok: true, events: ["NeuronRegistered:3"] });
    const after = await t.chain.metagraph(t.netuid);
    expect(after.n).toBe(4);
    expect(after.hotkeys[3]).toBe(hot.address);
    expect(after.blockAtRegistration[3]).toBe(t.devnet.block);
    expect(after.weights[3]).toEqual([]);
  });
});
