import { describe, expect, it } from "vitest";
import type { Signer } from "../../../../core/ports/signer.ts";
import { encodeWeightsPayload, tlockEncrypt } from "../../../../core/timelock/index.ts";
import { signerFromUri } from "../../../identity/sr25519.ts";
import { type TestSubnet, testSubnet } from "../testing.ts";

const CR = { commitRevealWeightsEnabled: true } as const;

function sealed(t: TestSubnet, round: bigint, hotkey: Signer, uids: number[], values: number[]): Uint8Array {
  const payload = encodeWeightsPayload({ hotkey: hotkey.publicKey, uids, values, versionKey: 0n });
  return tlockEncrypt({ publicKeyG2: t.devnet.beaconInfo().publicKeyG2, round, payload });
}

const revealedNames = (t: TestSubnet, from: number) =>
  t.devnet.events(from).filter((e) => e.name === "TimelockedWeightsRevealed");

describe("timelocked commits (devnet beacon)", () => {
  it("applies the weights at the start of commit epoch + reveal period, never before", async () => {
    const t = await testSubnet(CR);
    const commitEpoch = t.devnet.currentEpoch(t.netuid) ?? -1;
    const revealBlock = t.devnet.nextEpochStartBlock(t.netuid) ?? -1;
    const round = t.devnet.roundAtBlock(revealBlock);
    const commit = sealed(t, round, t.validator, [1, 2], [100, 300]);
    const outcome = await t.chain.commitTimelockedWeights(t.validator, t.netuid, commit, round, 4);
    expect(outcome).toMatchObject({ ok: true, events: ["TimelockedWeightsCommitted"] });
    const from = t.devnet.block;
    while (t.devnet.block < revealBlock - 1) {
      t.devnet.produceBlock();
      expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([]);
    }
    t.devnet.produceBlock();
    expect(t.devnet.epochIndex(t.netuid)).toBe(commitEpoch + 1);
    expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([
      [1, 21845],
      [2, 65535],
    ]);
    expect(revealedNames(t, from)).toHaveLength(1);
    expect(revealedNames(t, from)[0]?.block).toBe(revealBlock);
  });

  it("drops a commit whose payload names another hotkey", async () => {
    const t = await testSubnet(CR);
    const revealBlock = t.devnet.nextEpochStartBlock(t.netuid) ?? -1;
    const round = t.devnet.roundAtBlock(revealBlock);
    const commit = sealed(t, round, signerFromUri("//Someone"), [1], [1]);
    expect((await t.chain.commitTimelockedWeights(t.validator, t.netuid, commit, round, 4)).ok).toBe(true);
    const from = t.devnet.block;
    t.devnet.advance(revealBlock - t.devnet.block + 1);
    expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([]);
    expect(revealedNames(t, from)).toHaveLength(0);
    expect(t.devnet.state.subnets["1"]?.timelockedCommits).toEqual({});
  });

  it("drops an undecryptable commit silently", async () => {
    const t = await testSubnet(CR);
    const revealBlock = t.devnet.nextEpochStartBlock(t.netuid) ?? -1;
    const round = t.devnet.roundAtBlock(revealBlock);
    const garbage = new Uint8Array(300).fill(7);
    expect((await t.chain.commitTimelockedWeights(t.validator, t.netuid, garbage, round, 4)).ok).toBe(true);
    t.devnet.advance(revealBlock - t.devnet.block + 1);
    expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([]);
    expect(t.devnet.state.subnets["1"]?.timelockedCommits).toEqual({});
  });

  it("retries a missing pulse every block of the reveal epoch", async () => {
    const t = await testSubnet(CR);
    const revealBlock = t.devnet.nextEpochStartBlock(t.netuid) ?? -1;
    // Out 4 blocks into the reveal epoch (period 3 s, 1 s blocks).
    const round = t.devnet.roundAtBlock(revealBlock + 4);
    expect(round).toBeGreaterThan(t.devnet.roundAtBlock(revealBlock));
    const commit = sealed(t, round, t.validator, [3], [1]);
    expect((await t.chain.commitTimelockedWeights(t.validator, t.netuid, commit, round, 4)).ok).toBe(true);
    t.devnet.advance(revealBlock - t.devnet.block);
    expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([]);
    t.devnet.advance(5);
    expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([[3, 65535]]);
    const revealed = revealedNames(t, revealBlock);
    expect(revealed[0]?.block).toBeGreaterThan(revealBlock);
  });

  it("drops a commit whose pulse is still missing when its reveal epoch ends", async () => {
    const t = await testSubnet(CR);
    const revealBlock = t.devnet.nextEpochStartBlock(t.netuid) ?? -1;
    const round = t.devnet.roundAtBlock(revealBlock + 25);
    const commit = sealed(t, round, t.validator, [3], [1]);
    expect((await t.chain.commitTimelockedWeights(t.validator, t.netuid, commit, round, 4)).ok).toBe(true);
    t.devnet.advance(revealBlock + 30 - t.devnet.block);
    expect((await t.chain.metagraph(t.netuid)).weights[0]).toEqual([]);
    expect(t.devnet.state.subnets["1"]?.timelockedCommits).toEqual({});
  });

  it("refuses rounds below the last stored round, wrong versions, and CR off", async () => {
    const t = await testSubnet(CR);
    t.devnet.advance(9);
    const stale = t.devnet.beaconInfo().lastStoredRound - 1n;
    const commit = new Uint8Array(10);
    expect(await t.chain.commitTimelockedWeights(t.validator, t.netuid, commit, stale, 4)).toMatchObject({
      error: "InvalidRevealRound",
    });
    const round = t.devnet.beaconInfo().lastStoredRound + 10n;
    expect(await t.chain.commitTimelockedWeights(t.validator, t.netuid, commit, round, 3)).toMatchObject({
      error: "IncorrectCommitRevealVersion",
    });
    expect(await t.chain.commitTimelockedWeights(t.outsider, t.netuid, commit, round, 4)).toMatchObject({
      error: "HotKeyNotRegisteredInSubNet",
    });
    const off = await testSubnet();
    expect(await off.chain.commitTimelockedWeights(off.validator, off.netuid, commit, round, 4)).toMatchObject({
      error: "CommitRevealDisabled",
    });
  });
});
