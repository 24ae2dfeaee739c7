/**
 * One behavioural contract for every Chain adapter. A fixture provides a subnet with commit-reveal off, a staked
 * validator that already holds a permit, registered miners and an unregistered key, and a way to move blocks.
 */
import { expect, it } from "vitest";
import type { Chain } from "../../core/ports/chain.ts";
import type { Signer } from "../../core/ports/signer.ts";

export interface ChainFixture {
  readonly chain: Chain;
  readonly netuid: number;
  /** Coldkey that owns the registered hotkeys. */
  readonly coldkey: Signer;
  readonly validator: Signer;
  readonly miners: readonly Signer[];
  /** A hotkey that is not registered anywhere. */
  readonly unregistered: Signer;
  advance(blocks: number): Promise<void>;
  close(): Promise<void>;
}

export function chainContract(name: string, makeFixture: () => Promise<ChainFixture>): void {
  const withFixture = (title: string, body: (f: ChainFixture) => Promise<void>) =>
    it(`${name}: ${title}`, async () => {
      const f = await makeFixture();
      try {
        await body(f);
      } finally {
        await f.close();
      }
    });

  withFixture("blocks advance", async (f) => {
    const before = await f.chain.currentBlock();
    await f.advance(3);
    expect(await f.chain.currentBlock()).toBe(before + 3);
  });

  withFixture("hyperparameters describe the subnet", async (f) => {
    const h = await f.chain.hyperparams(f.netuid);
    expect(h.netuid).toBe(f.netuid);
    expect(h.tempo).toBeGreaterThan(0);
    expect(typeof h.weightsVersionKey).toBe("bigint");
    expect(h.commitRevealWeightsEnabled).toBe(false);
  });

  withFixture("the metagraph has one entry per uid in every vector", async (f) => {
    const m = await f.chain.metagraph(f.netuid);
    const vectors = [
      m.hotkeys,
      m.coldkeys,
      m.stake,
      m.active,
      m.validatorPermit,
      m.lastUpdate,
      m.blockAtRegistration,
      m.incentive,
      m.consensus,
      m.dividends,
      m.validatorTrust,
      m.emission,
      m.weights,
    ];
    for (const v of vectors) expect(v).toHaveLength(m.n);
    expect(m.hotkeys).toContain(f.validator.address);
    expect(m.validatorPermit[m.hotkeys.indexOf(f.validator.address)]).toBe(true);
  });

  withFixture("register reports the uid the metagraph shows", async (f) => {
    const outcome = await f.chain.register(f.coldkey, f.unregistered, f.netuid);
    expect(outcome.ok).toBe(true);
    const tag = outcome.ok ? outcome.events.find((e) => e.startsWith("NeuronRegistered:")) : undefined;
    const uid = Number(tag?.split(":")[1]);
    expect((await f.chain.metagraph(f.netuid)).hotkeys[uid]).toBe(f.unregistered.address);
    expect(await f.chain.register(f.coldkey, f.unregistered, f.netuid)).toMatchObject({
      ok: false,
      error: "HotKeyAlreadyRegisteredInSubNet",
    });
  });

  withFixture("set_weights lands in the validator's row, upscaled to a max of 65535", async (f) => {
    const m = await f.chain.metagraph(f.netuid);
    const uids = f.miners.map((k) => m.hotkeys.indexOf(k.address)).slice(0, 2);
    const outcome = await f.chain.setWeights(f.validator, f.netuid, uids, [100, 200], 0n);
    expect(outcome).toMatchObject({ ok: true });
    const row = (await f.chain.metagraph(f.netuid)).weights[m.hotkeys.indexOf(f.validator.address)];
    expect(row).toEqual([
      [uids[0], 32768],
      [uids[1], 65535],
    ]);
    const events = await f.chain.events(outcome.ok ? outcome.block : 0);
    expect(events.map((e) => e.name)).toContain("WeightsSet");
  });

  withFixture("rule violations come back as subtensor error names, never as exceptions", async (f) => {
    expect(await f.chain.setWeights(f.unregistered, f.netuid, [0], [1], 0n)).toMatchObject({
      ok: false,
      error: "HotKeyNotRegisteredInSubNet",
    });
    expect(await f.chain.setWeights(f.validator, f.netuid, [0, 0], [1, 1], 0n)).toMatchObject({
      ok: false,
      error: "DuplicateUids",
    });
    expect(await f.chain.commitWeights(f.validator, f.netuid, new Uint8Array(32))).toMatchObject({
      ok: false,
      error: "CommitRevealDisabled",
    });
  });

  withFixture("a registered hotkey commits data (Commitments) that reads back with its block", async (f) => {
    const digest = new Uint8Array(32).map((_, i) => i + 1);
    expect(await f.chain.commitment(f.netuid, f.validator.address)).toBeNull();
    const outcome = await f.chain.setCommitment(f.validator, f.netuid, digest);
    expect(outcome).toMatchObject({ ok: true });
    const stored = await f.chain.commitment(f.netuid, f.validator.address);
    expect(stored?.data).toEqual(digest);
    expect(stored?.block).toBe(outcome.ok ? outcome.block : -1);
    expect(await f.chain.setCommitment(f.unregistered, f.netuid, digest)).toMatchObject({
      ok: false,
      error: "AccountNotAllowedCommit",
    });
  });

  withFixture("epochs advance the epoch index at the announced block", async (f) => {
    const index = await f.chain.epochIndex(f.netuid);
    const next = await f.chain.nextEpochStartBlock(f.netuid);
    const now = await f.chain.currentBlock();
    expect(next).toBeGreaterThan(now);
    await f.advance(next - now);
    expect(await f.chain.epochIndex(f.netuid)).toBe(index + 1);
  });
}
