import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { identityReady, signerFromUri } from "../../adapters/identity/sr25519.ts";
import { silentLogger } from "../../adapters/log/logger.ts";
import { FolderModelStore } from "../../adapters/model-store/folder.ts";
import { encodeCommitment } from "../../core/experts/commitment.ts";
import type { Chain, Metagraph } from "../../core/ports/chain.ts";
import { DIGITS_MODEL_CONTRACT } from "../../core/tasks/digits.ts";
import { chainDirectory } from "./chain-directory.ts";

/** A chain that only answers what the directory builder reads: the metagraph's hotkeys and their commitments. */
function fakeChain(state: {
  block: number;
  hotkeys: string[];
  commitments: Map<string, { block: number; data: Uint8Array }>;
}) {
  return {
    metagraph: async () => ({ netuid: 1, block: state.block, hotkeys: state.hotkeys }) as unknown as Metagraph,
    commitment: async (_netuid: number, hotkey: string) => state.commitments.get(hotkey) ?? null,
  } as unknown as Chain;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "chain-dir-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("first committers across a restart of the directory builder", () => {
  it("keep their precedence once the original moved on, unless the published block is past the chain's head", async () => {
    await identityReady();
    // Real ss58 addresses: the published directory's entries are manifests, which check their hotkeys.
    const original = signerFromUri("//original").address;
    const copier = signerFromUri("//copier").address;
    const store = new FolderModelStore(dir);
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array([4, 5, 6, 7]);
    const shaA = await store.put(a);
    const shaB = await store.put(b);
    const commit = (sha256: string, size: number, block: number) => ({
      block,
      data: encodeCommitment({ task: "digits", sha256, size }),
    });
    const state = {
      block: 20,
      hotkeys: [original, copier],
      commitments: new Map([
        [original, commit(shaA, a.length, 10)],
        [copier, commit(shaA, a.length, 12)],
      ]),
    };
    const build = () =>
      chainDirectory({
        chain: fakeChain(state),
        netuid: 1,
        store,
        tasks: (t) => (t === "digits" ? { contract: DIGITS_MODEL_CONTRACT, runner: "classifier" } : undefined),
        log: silentLogger,
      });
    const first = build();
    expect((await first.refresh()).get(1)).toMatchObject({ served: false });
    // The original moves on: the chain now shows the copier as the only committer of model a.
    state.commitments.set(original, commit(shaB, b.length, 15));
    await first.refresh();

    const restarted = build();
    const decisions = await restarted.refresh();
    expect(decisions.get(1)).toMatchObject({ served: false, reason: expect.stringContaining("uid 0 committed") });
    expect(decisions.get(0)).toMatchObject({ served: true, entry: { model: { sha256: shaB } } });

    // A chain started afresh (its head below the published blocks) is not judged by another chain's history.
    state.block = 5;
    expect((await build().refresh()).get(1)).toMatchObject({ served: true });
  });
});
