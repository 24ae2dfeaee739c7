import { describe, expect, it } from "vitest";
import { signerFromUri } from "../../../identity/sr25519.ts";
import { createDevnet, restoreDevnet } from "../create.ts";
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
    expect(t.devnet.setMinNonImmuneUids(t.netuid, 0).ok).toBe(true);
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

/**
 * get_neuron_to_prune as subtensor's pallets/subtensor/src/subnets/registration.rs (main 14bc6f9) runs it. The subnet:
 * uid 0 the validator under the owner's coldkey (owner-immortal: ImmuneOwnerUidsLimit 1), uids 1.. miners under
 * their own coldkeys. Emissions are written straight into state just before a registration (no block runs between,
 * so no epoch overwrites them).
 */
describe("uid pruning when the subnet is full (get_neuron_to_prune)", () => {
  const IMMUNITY = 5;
  /** `registeredAt[i]`: blocks to advance before registering miner i (so blockAtRegistration differs). */
  async function fullSubnet(maxUids: number, registeredAt: number[] = []) {
    const t = await testSubnet({ maxAllowedUids: maxUids, immunityPeriod: IMMUNITY }, 0);
    const miners = [];
    for (let i = 1; i < maxUids; i++) {
      t.devnet.advance(registeredAt[i - 1] ?? 0);
      const hot = signerFromUri(`//Full${i}`);
      const result = t.devnet.register(signerFromUri(`//Full${i}//coldkey`).address, hot.address, t.netuid);
      if (!result.ok) throw new Error(result.error);
      miners.push(hot);
    }
    const subnet = t.devnet.state.subnets[String(t.netuid)];
    if (!subnet) throw new Error("no subnet");
    const setEmissions = (emissions: bigint[]) => {
      for (const [uid, e] of emissions.entries()) {
        const neuron = subnet.neurons[uid];
        if (neuron) neuron.emission = e;
      }
    };
    const register = (name: string) =>
      t.devnet.register(signerFromUri(`//${name}//coldkey`).address, signerFromUri(`//${name}`).address, t.netuid);
    return { ...t, subnet, miners, setEmissions, register };
  }

  it("prunes the lowest emission among non-immune uids; ties go to the earliest registration, then the lowest uid", async () => {
    // Miners at blocks 1 (uid 1), 3 (uid 2), 3 (uid 3), 3 (uid 4).
    const t = await fullSubnet(5, [0, 2, 0, 0]);
    expect(t.devnet.setMinNonImmuneUids(t.netuid, 0).ok).toBe(true);
    t.devnet.advance(IMMUNITY + 1);
    expect(t.subnet.neurons.map((n) => n.blockAtRegistration)).toEqual([0, 1, 3, 3, 3]);
    // Lowest emission wins over the earliest registration.
    t.setEmissions([0n, 9n, 7n, 3n, 5n]);
    expect(t.register("A")).toEqual({ ok: true, uid: 3 });
    // Equal emission: the earliest BlockAtRegistration (uid 1 at block 1 over uids 2 and 4 at block 3).
    t.devnet.advance(IMMUNITY);
    t.setEmissions([0n, 4n, 4n, 4n, 4n]);
    expect(t.register("B")).toEqual({ ok: true, uid: 1 });
    // Equal emission and block: the lowest uid (uid 2 over uid 4); uid 1 (just registered) is immune.
    t.setEmissions([0n, 0n, 4n, 4n, 4n]);
    expect(t.register("C")).toEqual({ ok: true, uid: 2 });
    expect(
      t.devnet
        .events(0)
        .filter((e) => e.name === "NeuronRegistered")
        .map((e) => e.data.uid),
    ).toEqual([0, 1, 2, 3, 4, 3, 1, 2]);
  });

  it("never prunes an immune uid while more than MinNonImmuneUids non-immune uids remain", async () => {
    const t = await fullSubnet(6);
    expect(t.devnet.setMinNonImmuneUids(t.netuid, 1).ok).toBe(true);
    t.devnet.advance(IMMUNITY);
    // uids 1..5 all non-immune; replace uids 1 and 2 with fresh (immune) registrations.
    t.setEmissions([0n, 1n, 2n, 50n, 60n, 70n]);
    expect(t.register("Fresh1").ok && t.register("Fresh2").ok).toBe(true);
    expect(t.subnet.neurons[1]?.hotkey).toBe(signerFromUri("//Fresh1").address);
    expect(t.subnet.neurons[2]?.hotkey).toBe(signerFromUri("//Fresh2").address);
    // The immune uids 1 and 2 have the lowest emission, yet the non-immune uid with the lowest emission goes.
    t.setEmissions([0n, 0n, 0n, 60n, 50n, 70n]);
    expect(t.register("Next")).toEqual({ ok: true, uid: 4 });
    t.setEmissions([0n, 0n, 0n, 60n, 0n, 70n]);
    // Two non-immune left (uids 3, 5) > MinNonImmuneUids 1: uid 3 goes, leaving one.
    expect(t.register("Next2")).toEqual({ ok: true, uid: 3 });
  });

  it("at MinNonImmuneUids non-immune uids or fewer, prunes the best immune uid instead, or refuses", async () => {
    const t = await fullSubnet(4);
    t.devnet.advance(IMMUNITY);
    // Default MinNonImmuneUids is the chain's 10: three non-immune uids are not enough, and none is immune.
    expect(t.devnet.state.subnets["1"]?.minNonImmuneUids).toBeUndefined();
    const before = t.subnet.neurons.map((n) => n.hotkey);
    expect(t.register("Refused")).toEqual({ ok: false, error: "NoNeuronIdAvailable" });
    expect(t.subnet.neurons.map((n) => n.hotkey)).toEqual(before);
    // Floor 2: 3 non-immune > 2, so the lowest-emission non-immune uid (3) is replaced by an immune newcomer.
    expect(t.devnet.setMinNonImmuneUids(t.netuid, 2).ok).toBe(true);
    t.setEmissions([0n, 5n, 6n, 1n]);
    expect(t.register("Immune1")).toEqual({ ok: true, uid: 3 });
    // Now 2 non-immune uids (1, 2), not more than 2: the immune uid 3 is pruned even though uid 1 has less emission.
    t.setEmissions([0n, 0n, 6n, 9n]);
    expect(t.register("Immune2")).toEqual({ ok: true, uid: 3 });
    expect(t.subnet.neurons[1]?.hotkey).toBe(t.miners[0]?.address);
  });

  it("the owner coldkey's oldest hotkey (up to ImmuneOwnerUidsLimit) and SubnetOwnerHotkey are never pruned", async () => {
    const t = await fullSubnet(4);
    expect(t.devnet.setMinNonImmuneUids(t.netuid, 0).ok).toBe(true);
    t.devnet.advance(IMMUNITY);
    // A second owner-coldkey hotkey replaces uid 1; after its immunity it is prunable (limit 1 keeps only uid 0).
    t.setEmissions([0n, 5n, 6n, 7n]);
    const ownerSecond = signerFromUri("//OwnerSecond");
    expect(t.devnet.register(t.owner.address, ownerSecond.address, t.netuid)).toEqual({ ok: true, uid: 1 });
    t.devnet.advance(IMMUNITY);
    t.setEmissions([0n, 0n, 6n, 7n]);
    expect(t.register("X")).toEqual({ ok: true, uid: 1 });
    // Limit 2 makes both owner hotkeys immortal.
    t.devnet.advance(IMMUNITY);
    expect(t.devnet.register(t.owner.address, signerFromUri("//OwnerThird").address, t.netuid).ok).toBe(true);
    expect(t.devnet.setImmuneOwnerUidsLimit(t.netuid, 2).ok).toBe(true);
    t.devnet.advance(IMMUNITY);
    const third = t.subnet.neurons.findIndex((n) => n.hotkey === signerFromUri("//OwnerThird").address);
    t.setEmissions([0, 1, 2, 3].map((uid) => (uid === third || uid === 0 ? 0n : 5n + BigInt(uid))));
    const pruned = t.register("Y");
    expect(pruned.ok && pruned.uid !== 0 && pruned.uid !== third).toBe(true);
    expect(t.devnet.setImmuneOwnerUidsLimit(t.netuid, 11)).toEqual({ ok: false, error: "InvalidValue" });
    expect(t.devnet.setImmuneOwnerUidsLimit(t.netuid, 2, { coldkey: t.miners[0]?.address ?? "" })).toEqual({
      ok: false,
      error: "NotSubnetOwner",
    });
    expect(t.devnet.setMinNonImmuneUids(t.netuid, 3, { coldkey: t.owner.address })).toEqual({
      ok: false,
      error: "BadOrigin",
    });
    // SubnetOwnerHotkey (uid 0 of a subnet created with one) is never pruned, even with zero emission and no immunity.
    const ownerHot = signerFromUri("//SubnetOwnerHot");
    const second = t.devnet.createSubnet({
      ownerColdkey: t.owner.address,
      ownerHotkey: ownerHot.address,
      hyperparams: { maxAllowedUids: 2, immunityPeriod: IMMUNITY },
    });
    t.devnet.setMinNonImmuneUids(second, 0);
    const reg = (name: string) =>
      t.devnet.register(signerFromUri(`//${name}//coldkey`).address, signerFromUri(`//${name}`).address, second);
    expect(reg("M")).toEqual({ ok: true, uid: 1 });
    t.devnet.advance(IMMUNITY);
    const secondSubnet = t.devnet.state.subnets[String(second)];
    for (const n of secondSubnet?.neurons ?? []) n.emission = n.hotkey === ownerHot.address ? 0n : 9n;
    expect(reg("N")).toEqual({ ok: true, uid: 1 });
    // Only the owner hotkey and an immune uid left: the immune one is the candidate (no non-immune uid remains).
    expect(reg("O")).toEqual({ ok: true, uid: 1 });
    expect(secondSubnet?.neurons[0]?.hotkey).toBe(ownerHot.address);
  });

  it("MinNonImmuneUids and ImmuneOwnerUidsLimit survive a snapshot", async () => {
    const devnet = createDevnet({ blockTimeMs: 1000 });
    const netuid = devnet.createSubnet({ ownerColdkey: signerFromUri("//Owner").address });
    devnet.setMinNonImmuneUids(netuid, 3);
    devnet.setImmuneOwnerUidsLimit(netuid, 4);
    const restored = restoreDevnet(devnet.snapshot(), { blockTimeMs: 1000 });
    expect(restored.state.subnets[String(netuid)]).toMatchObject({ minNonImmuneUids: 3, immuneOwnerUidsLimit: 4 });
  });
});
