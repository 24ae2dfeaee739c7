import { describe, expect, it } from "vitest";
import { signerFromUri } from "../../../identity/sr25519.ts";
import { testSubnet } from "../testing.ts";

describe("set_weights rules (devnet)", () => {
  it("stores max-upscaled weights and LastUpdate for a validator with a permit", async () => {
    const t = await testSubnet();
    const outcome = await t.chain.setWeights(t.validator, t.netuid, [1, 2, 3], [10000, 60000, 0], 0n);
    expect(outcome.ok).toBe(true);
    const m = await t.chain.metagraph(t.netuid);
    // Ratio first: 10000 * floor(65535/60000 in I32F32) rounds to 10922, not 10923; explicit zeros stay.
    expect(m.weights[0]).toEqual([
      [1, 10922],
      [2, 65535],
      [3, 0],
    ]);
    expect(m.lastUpdate[0]).toBe(t.devnet.block);
    expect(outcome.ok && outcome.events).toContain("WeightsSet");
  });

  it("refuses set_weights while commit-reveal is on", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    expect(await t.chain.setWeights(t.validator, t.netuid, [1], [1], 0n)).toMatchObject({
      ok: false,
      error: "CommitRevealEnabled",
    });
  });

  it("checks lengths before registration", async () => {
    const t = await testSubnet();
    expect(await t.chain.setWeights(t.outsider, t.netuid, [1, 2], [1], 0n)).toMatchObject({
      error: "WeightVecNotEqualSize",
    });
    expect(await t.chain.setWeights(t.validator, t.netuid, [0, 1, 2, 3, 3], [1, 1, 1, 1, 1], 0n)).toMatchObject({
      error: "UidsLengthExceedUidsInSubNet",
    });
    expect(await t.chain.setWeights(t.outsider, t.netuid, [1], [1], 0n)).toMatchObject({
      error: "HotKeyNotRegisteredInSubNet",
    });
  });

  it("needs StakeThreshold, except for the owner hotkey", async () => {
    const t = await testSubnet();
    expect(t.devnet.setHyperparams(t.netuid, { stakeThreshold: 2_000_000_000_000n }).ok).toBe(true);
    expect(await t.chain.setWeights(t.validator, t.netuid, [1], [1], 0n)).toMatchObject({
      error: "NotEnoughStakeToSetWeights",
    });
  });

  it("lets the subnet owner's hotkey set weights without stake or permit", async () => {
    const t = await testSubnet();
    const ownerHotkey = signerFromUri("//OwnerHot");
    const netuid = t.devnet.createSubnet({
      netuid: 2,
      ownerColdkey: t.owner.address,
      ownerHotkey: ownerHotkey.address,
    });
    t.devnet.setHyperparams(netuid, { commitRevealWeightsEnabled: false, weightsRateLimit: 0, stakeThreshold: 10n });
    const miner = t.miners[0]?.address ?? "";
    expect(t.devnet.register(t.devnet.state.hotkeyOwner[miner] ?? "", miner, netuid).ok).toBe(true);
    expect((await t.chain.setWeights(ownerHotkey, netuid, [1], [5], 0n)).ok).toBe(true);
  });

  it("checks the version key", async () => {
    const t = await testSubnet({ weightsVersionKey: 7n });
    expect(await t.chain.setWeights(t.validator, t.netuid, [1], [1], 6n)).toMatchObject({
      error: "IncorrectWeightVersionKey",
    });
    expect((await t.chain.setWeights(t.validator, t.netuid, [1], [1], 8n)).ok).toBe(true);
  });

  it("rate-limits by LastUpdate", async () => {
    const t = await testSubnet({ weightsRateLimit: 5 });
    t.devnet.advance(5);
    expect((await t.chain.setWeights(t.validator, t.netuid, [1], [1], 0n)).ok).toBe(true);
    t.devnet.advance(4);
    expect(await t.chain.setWeights(t.validator, t.netuid, [1], [1], 0n)).toMatchObject({
      error: "SettingWeightsTooFast",
    });
    t.devnet.advance(1);
    expect((await t.chain.setWeights(t.validator, t.netuid, [1], [1], 0n)).ok).toBe(true);
  });

  it("needs a validator permit, except for a single self-weight", async () => {
    const t = await testSubnet();
    const miner = t.miners[0];
    if (!miner) throw new Error("no miner");
    expect(await t.chain.setWeights(miner, t.netuid, [2], [1], 0n)).toMatchObject({
      error: "NeuronNoValidatorPermit",
    });
    expect((await t.chain.setWeights(miner, t.netuid, [1], [9], 0n)).ok).toBe(true);
  });

  it("rejects duplicate and unknown uids", async () => {
    const t = await testSubnet();
    expect(await t.chain.setWeights(t.validator, t.netuid, [1, 1], [1, 2], 0n)).toMatchObject({
      error: "DuplicateUids",
    });
    expect(await t.chain.setWeights(t.validator, t.netuid, [1, 9], [1, 2], 0n)).toMatchObject({
      error: "UidVecContainInvalidOne",
    });
  });

  it("needs min(n, MinAllowedWeights) entries", async () => {
    const t = await testSubnet({ minAllowedWeights: 3 });
    expect(await t.chain.setWeights(t.validator, t.netuid, [1, 2], [1, 2], 0n)).toMatchObject({
      error: "WeightVecLengthIsLow",
    });
    expect((await t.chain.setWeights(t.validator, t.netuid, [1, 2, 3], [1, 2, 3], 0n)).ok).toBe(true);
  });

  it("enforces MaxWeightsLimit on the normalised row", async () => {
    const t = await testSubnet({ maxWeightsLimit: 40000 });
    expect(await t.chain.setWeights(t.validator, t.netuid, [1, 2], [65535, 1000], 0n)).toMatchObject({
      error: "MaxWeightExceeded",
    });
    expect((await t.chain.setWeights(t.validator, t.netuid, [1, 2], [100, 100], 0n)).ok).toBe(true);
  });

  it("never throws on values outside u16", async () => {
    const t = await testSubnet();
    expect(await t.chain.setWeights(t.validator, t.netuid, [1], [70000], 0n)).toMatchObject({
      ok: false,
      error: "BadEncoding",
    });
  });

  it("refuses a signature that does not match the signer's address", async () => {
    const t = await testSubnet();
    const impostor = { ...t.validator, sign: (m: Uint8Array) => signerFromUri("//Mallory").sign(m) };
    expect(await t.chain.setWeights(impostor, t.netuid, [1], [1], 0n)).toMatchObject({ ok: false, error: "BadProof" });
  });
});
