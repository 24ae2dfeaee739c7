import { TypeRegistry } from "@polkadot/types";
import { u8aToHex } from "@polkadot/util";
import { blake2AsU8a } from "@polkadot/util-crypto";
import { describe, expect, it } from "vitest";
import { testSubnet } from "../testing.ts";
import { commitHash } from "./commit-hash.ts";

const SALT = [3, 1, 4, 1, 5, 9, 2, 6];

/** Advance until the epoch index changes (the block in which an epoch fires). */
function untilNextEpoch(t: Awaited<ReturnType<typeof testSubnet>>): void {
  const start = t.devnet.epochIndex(t.netuid);
  while (t.devnet.epochIndex(t.netuid) === start) t.devnet.produceBlock();
}

describe("commit/reveal v2 rules (devnet)", () => {
  it("hashes the SCALE tuple exactly as @polkadot/types encodes it", async () => {
    const t = await testSubnet();
    const registry = new TypeRegistry();
    const tuple = registry.createType("(AccountId32, u16, Vec<u16>, Vec<u16>, Vec<u16>, u64)", [
      t.validator.address,
      1,
      [1, 2],
      [10, 20],
      SALT,
      42,
    ]);
    const expected = u8aToHex(blake2AsU8a(tuple.toU8a(), 256));
    expect(u8aToHex(commitHash(t.validator.address, 1, [1, 2], [10, 20], SALT, 42n))).toBe(expected);
  });

  it("reveals only in commit epoch + RevealPeriodEpochs; LastUpdate is the commit block", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    const hash = commitHash(t.validator.address, t.netuid, [1, 2], [10, 20], SALT, 0n);
    const committed = await t.chain.commitWeights(t.validator, t.netuid, hash);
    expect(committed).toMatchObject({ ok: true, events: ["WeightsCommitted"] });
    const commitBlock = t.devnet.block;
    expect(await t.chain.revealWeights(t.validator, t.netuid, [1, 2], [10, 20], SALT, 0n)).toMatchObject({
      error: "RevealTooEarly",
    });
    untilNextEpoch(t);
    const revealed = await t.chain.revealWeights(t.validator, t.netuid, [1, 2], [10, 20], SALT, 0n);
    expect(revealed).toMatchObject({ ok: true, events: ["WeightsSet", "WeightsRevealed"] });
    const m = await t.chain.metagraph(t.netuid);
    expect(m.weights[0]).toEqual([
      [1, 32768],
      [2, 65535],
    ]);
    expect(m.lastUpdate[0]).toBe(commitBlock);
  });

  it("answers NoWeightsCommitFound for a reveal that matches no commit", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    expect(await t.chain.revealWeights(t.validator, t.netuid, [1], [1], SALT, 0n)).toMatchObject({
      error: "NoWeightsCommitFound",
    });
    await t.chain.commitWeights(t.validator, t.netuid, commitHash(t.validator.address, 1, [1], [1], SALT, 0n));
    untilNextEpoch(t);
    expect(await t.chain.revealWeights(t.validator, t.netuid, [2], [1], SALT, 0n)).toMatchObject({
      error: "NoWeightsCommitFound",
    });
  });

  it("treats a commit past its reveal epoch as out of range (the guard answers RevealTooEarly)", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    await t.chain.commitWeights(t.validator, t.netuid, commitHash(t.validator.address, 1, [1], [1], SALT, 0n));
    untilNextEpoch(t);
    untilNextEpoch(t);
    expect(await t.chain.revealWeights(t.validator, t.netuid, [1], [1], SALT, 0n)).toMatchObject({
      error: "RevealTooEarly",
    });
  });

  it("drops earlier commits when a later one is revealed", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    await t.chain.commitWeights(t.validator, t.netuid, commitHash(t.validator.address, 1, [1], [1], SALT, 0n));
    await t.chain.commitWeights(t.validator, t.netuid, commitHash(t.validator.address, 1, [2], [1], SALT, 0n));
    untilNextEpoch(t);
    expect((await t.chain.revealWeights(t.validator, t.netuid, [2], [1], SALT, 0n)).ok).toBe(true);
    expect(await t.chain.revealWeights(t.validator, t.netuid, [1], [1], SALT, 0n)).toMatchObject({
      error: "NoWeightsCommitFound",
    });
  });

  it("keeps at most 10 unrevealed commits", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    for (let i = 0; i < 10; i++) {
      const hash = commitHash(t.validator.address, 1, [1], [i + 1], SALT, 0n);
      expect((await t.chain.commitWeights(t.validator, t.netuid, hash)).ok).toBe(true);
    }
    const eleventh = commitHash(t.validator.address, 1, [1], [99], SALT, 0n);
    expect(await t.chain.commitWeights(t.validator, t.netuid, eleventh)).toMatchObject({
      error: "TooManyUnrevealedCommits",
    });
  });

  it("rate-limits commits and needs CR on and a registered hotkey", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true, weightsRateLimit: 3 });
    const hash = commitHash(t.validator.address, 1, [1], [1], SALT, 0n);
    t.devnet.advance(3);
    expect((await t.chain.commitWeights(t.validator, t.netuid, hash)).ok).toBe(true);
    expect(await t.chain.commitWeights(t.validator, t.netuid, hash)).toMatchObject({
      error: "CommittingWeightsTooFast",
    });
    expect(await t.chain.commitWeights(t.outsider, t.netuid, hash)).toMatchObject({
      error: "HotKeyNotRegisteredInSubNet",
    });
    const off = await testSubnet({ commitRevealWeightsEnabled: false });
    expect(await off.chain.commitWeights(off.validator, off.netuid, hash)).toMatchObject({
      error: "CommitRevealDisabled",
    });
  });

  it("keeps the commit when the revealed weights are refused (the extrinsic is transactional)", async () => {
    const t = await testSubnet({ commitRevealWeightsEnabled: true });
    await t.chain.commitWeights(t.validator, t.netuid, commitHash(t.validator.address, 1, [1, 1], [1, 1], SALT, 0n));
    untilNextEpoch(t);
    expect(await t.chain.revealWeights(t.validator, t.netuid, [1, 1], [1, 1], SALT, 0n)).toMatchObject({
      error: "DuplicateUids",
    });
    expect(t.devnet.state.subnets["1"]?.weightCommits[t.validator.address]).toHaveLength(1);
  });
});
