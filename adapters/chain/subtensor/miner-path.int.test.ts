// The miner's chain calls (issue 15) through the subtensor adapter against the devnet's JSON-RPC, as `market miner`
// makes them against a node: the burn, a burned registration by a fresh coldkey, a model commitment and its read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCommitment, encodeCommitment, isRetirement, RETIREMENT } from "../../../core/experts/commitment.ts";
import { newMnemonic } from "../../identity/keyfile.ts";
import { signerFromUri } from "../../identity/sr25519.ts";
import { type DevnetRpc, startDevnetRpc } from "../devnet/rpc/index.ts";
import { type TestSubnet, testSubnet } from "../devnet/testing.ts";
import { connectSubtensor, type SubtensorChain } from "./chain.ts";

let t: TestSubnet;
let rpc: DevnetRpc;
let chain: SubtensorChain;

beforeAll(async () => {
  t = await testSubnet();
  rpc = await startDevnetRpc({ devnet: t.devnet });
  chain = await connectSubtensor({ url: rpc.url, inclusionTimeoutMs: 10_000 });
});
afterAll(async () => {
  await chain?.close();
  await rpc?.close();
});

describe("a miner's calls over JSON-RPC", () => {
  it("reads the burn, registers under its own coldkey, commits {task, sha256, size}, retires", async () => {
    expect(await chain.registrationCost(t.netuid)).toBe(0n);
    const coldkey = signerFromUri(newMnemonic());
    const hotkey = signerFromUri(newMnemonic());
    const reg = await chain.register(coldkey, hotkey, t.netuid);
    expect(reg.ok).toBe(true);
    const metagraph = await chain.metagraph(t.netuid);
    const uid = metagraph.hotkeys.indexOf(hotkey.address);
    expect(uid).toBeGreaterThanOrEqual(0);
    expect(metagraph.coldkeys[uid]).toBe(coldkey.address);

    const c = { task: "digits", sha256: "c0".repeat(32), size: 102_113 };
    const set = await chain.setCommitment(hotkey, t.netuid, encodeCommitment(c));
    expect(set.ok).toBe(true);
    const read = await chain.commitment(t.netuid, hotkey.address);
    expect(read && decodeCommitment(read.data)).toEqual(c);
    expect(read?.block).toBe(set.ok ? set.block : -1);

    expect((await chain.setCommitment(hotkey, t.netuid, RETIREMENT)).ok).toBe(true);
    const retired = await chain.commitment(t.netuid, hotkey.address);
    expect(retired !== null && isRetirement(retired.data)).toBe(true);
  }, 60_000);
});
