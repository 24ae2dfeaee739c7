/**
 * Refusals as mainnet returns them, through @polkadot/api against the devnet's RPC server: pool refusals as
 * `1010: Invalid Transaction: ...` RPC errors, dispatch failures as ExtrinsicFailed with a SubtensorModule error;
 * and the adapter names each one.
 */
import type { SubmittableExtrinsic } from "@polkadot/api/types";
import { afterEach, describe, expect, it } from "vitest";
import type { Signer } from "../../../core/ports/signer.ts";
import { signerFromUri } from "../../identity/sr25519.ts";
import type { HyperparamsPatch } from "../devnet/admin.ts";
import { type DevnetRpc, startDevnetRpc } from "../devnet/rpc/index.ts";
import { type TestSubnet, testSubnet } from "../devnet/testing.ts";
import { connectSubtensor, type SubtensorChain } from "./chain.ts";
import { poolRefusal } from "./pool-errors.ts";
import { polkadotSigner } from "./signer-bridge.ts";

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function setup(patch: HyperparamsPatch = {}): Promise<{ t: TestSubnet; rpc: DevnetRpc; chain: SubtensorChain }> {
  const t = await testSubnet(patch);
  const rpc = await startDevnetRpc({ devnet: t.devnet });
  const chain = await connectSubtensor({ url: rpc.url, inclusionTimeoutMs: 10_000 });
  cleanup = async () => {
    await chain.close();
    await rpc.close();
  };
  return { t, rpc, chain };
}

/** Signs with the given nonce and submits without watching: the RPC error text is what a node answers. */
async function rawSubmit(
  chain: SubtensorChain,
  signer: Signer,
  tx: SubmittableExtrinsic<"promise">,
  nonce?: number,
): Promise<string> {
  const next = nonce ?? (await chain.api.rpc.system.accountNextIndex(signer.address)).toNumber();
  await tx.signAsync(signer.address, { signer: polkadotSigner(chain.api.registry, signer), nonce: next });
  try {
    await chain.api.rpc.author.submitExtrinsic(tx);
    return "accepted";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function setWeightsTx(chain: SubtensorChain, uids: number[], values: number[]) {
  const build = chain.api.tx.subtensorModule?.setWeights;
  if (!build) throw new Error("no set_weights");
  return build(1, uids, values, 0);
}

describe("refusals through @polkadot/api, as mainnet returns them", () => {
  it("a bad signature: 1010 bad signature, named BadProof", async () => {
    const { t, chain } = await setup();
    const forger: Signer = { ...t.validator, sign: (m) => t.miners[0]?.sign(m) ?? new Uint8Array(64) };
    const message = await rawSubmit(chain, forger, setWeightsTx(chain, [1], [1]));
    expect(message).toBe("1010: Invalid Transaction: Transaction has a bad signature");
    expect(poolRefusal(message, "setWeights")?.name).toBe("BadProof");
    expect(await chain.setWeights(forger, 1, [1], [1], 0n)).toMatchObject({ ok: false, error: "BadProof" });
  });

  it("a stale nonce: 1010 outdated, named Stale; the adapter re-signs such a refusal once", async () => {
    const { t, chain } = await setup();
    expect(await chain.setWeights(t.validator, 1, [1], [1], 0n)).toMatchObject({ ok: true });
    const message = await rawSubmit(chain, t.validator, setWeightsTx(chain, [1, 2], [1, 1]), 0);
    expect(message).toBe("1010: Invalid Transaction: Transaction is outdated");
    expect(poolRefusal(message, "setWeights")).toEqual({ name: "Stale", retryable: true });
    // The nonce read by the adapter raced with another writer: its first try is refused as stale, the retry lands.
    const realNext = chain.api.rpc.system.accountNextIndex;
    let calls = 0;
    Object.defineProperty(chain.api.rpc.system, "accountNextIndex", {
      configurable: true,
      value: async (address: string) => {
        calls += 1;
        return calls === 1 ? chain.api.registry.createType("u32", 0) : realNext(address);
      },
    });
    expect(await chain.setWeights(t.validator, 1, [1, 2], [1, 2], 0n)).toMatchObject({ ok: true });
    expect(calls).toBe(2);
  });

  it("weights too fast: 1010 Custom error: 6, named SettingWeightsTooFast", async () => {
    const { t, chain } = await setup({ weightsRateLimit: 100 });
    expect(await chain.setWeights(t.validator, 1, [1], [1], 0n)).toMatchObject({ ok: true });
    const message = await rawSubmit(chain, t.validator, setWeightsTx(chain, [1], [2]));
    expect(message).toBe("1010: Invalid Transaction: Custom error: 6");
    expect(poolRefusal(message, "setWeights")?.name).toBe("SettingWeightsTooFast");
    const before = (await chain.api.rpc.system.accountNextIndex(t.validator.address)).toNumber();
    expect(await chain.setWeights(t.validator, 1, [1], [2], 0n)).toEqual({ ok: false, error: "SettingWeightsTooFast" });
    // Checked before sending: nothing was signed or pooled.
    expect((await chain.api.rpc.system.accountNextIndex(t.validator.address)).toNumber()).toBe(before);
  });

  it("not enough stake: 1010 Custom error: 1, named NotEnoughStakeToSetWeights", async () => {
    const { t, chain } = await setup();
    t.devnet.state.stakeThreshold = 10n ** 18n;
    const miner = t.miners[0] as Signer;
    expect(await rawSubmit(chain, miner, setWeightsTx(chain, [0], [1]))).toBe(
      "1010: Invalid Transaction: Custom error: 1",
    );
    expect(await chain.setWeights(miner, 1, [0], [1], 0n)).toMatchObject({
      ok: false,
      error: "NotEnoughStakeToSetWeights",
    });
  });

  it("not registered: in a block, ExtrinsicFailed with SubtensorModule.HotKeyNotRegisteredInSubNet", async () => {
    const { chain } = await setup();
    const stranger = signerFromUri("//Stranger");
    const tx = setWeightsTx(chain, [0], [1]);
    const result = await new Promise<{ section: string; name: string; index: number[] }>((resolve, reject) => {
      tx.signAndSend(stranger.address, { signer: polkadotSigner(chain.api.registry, stranger) }, (res) => {
        if (!res.status.isInBlock) return;
        const error = res.dispatchError;
        if (!error?.isModule) return reject(new Error("expected a module error"));
        const meta = chain.api.registry.findMetaError(error.asModule);
        resolve({ section: meta.section, name: meta.name, index: [...error.asModule.error.toU8a()] });
      }).catch(reject);
    });
    expect(result.section).toBe("subtensorModule");
    expect(result.name).toBe("HotKeyNotRegisteredInSubNet");
    expect(await chain.setWeights(stranger, 1, [0], [1], 0n)).toMatchObject({
      ok: false,
      error: "HotKeyNotRegisteredInSubNet",
      block: expect.any(Number),
    });
  });

  it("a reveal too early: 1010 Custom error: 17, named RevealTooEarly; an unknown one 16, NoWeightsCommitFound", async () => {
    const { t, chain } = await setup({ commitRevealWeightsEnabled: true });
    const { commitHash } = await import("../devnet/rules/commit-hash.ts");
    const salt = [1, 2, 3];
    const hash = commitHash(t.validator.address, 1, [1], [1], salt, 0n);
    expect(await chain.commitWeights(t.validator, 1, hash)).toMatchObject({ ok: true });
    const reveal = chain.api.tx.subtensorModule?.revealWeights;
    if (!reveal) throw new Error("no reveal_weights");
    expect(await rawSubmit(chain, t.validator, reveal(1, [1], [1], salt, 0))).toBe(
      "1010: Invalid Transaction: Custom error: 17",
    );
    expect(await chain.revealWeights(t.validator, 1, [1], [1], salt, 0n)).toMatchObject({
      ok: false,
      error: "RevealTooEarly",
    });
    expect(await chain.revealWeights(t.validator, 1, [2], [1], salt, 0n)).toMatchObject({
      ok: false,
      error: "NoWeightsCommitFound",
    });
  });
});
