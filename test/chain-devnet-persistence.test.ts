import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDemoSubnet, createDevnet, openFileBackedDevnet, restoreDevnet } from "../adapters/chain/devnet/index.ts";
import { identityReady } from "../adapters/identity/sr25519.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempPath(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "devnet-"));
  dirs.push(dir);
  return join(dir, "chain.json");
}

describe("file-backed devnet", () => {
  it("produces blocks on its timer, saves on stop and resumes where it stopped", async () => {
    await identityReady();
    const path = await tempPath();
    const open = () =>
      openFileBackedDevnet(
        { path, saveEveryBlocks: 5 },
        () => createDevnet({ blockTimeMs: 20 }),
        (json) => restoreDevnet(json),
      );
    const first = await open();
    expect(first.resumed).toBe(false);
    createDemoSubnet(first.devnet, {
      experts: [{ hotkeyUri: "//E0" }, { hotkeyUri: "//E1" }],
      validator: "//V",
      ownerColdkeyUri: "//Owner",
      tempo: 5,
    });
    first.devnet.start();
    await new Promise<void>((resolve) => {
      const off = first.devnet.onBlock((b) => {
        if (b >= 12) {
          off();
          resolve();
        }
      });
    });
    await first.stop();
    const stoppedAt = first.devnet.block;
    const epochs = first.devnet.epochIndex(1);
    expect(epochs).toBeGreaterThanOrEqual(2);

    const second = await open();
    expect(second.resumed).toBe(true);
    expect(second.devnet.block).toBe(stoppedAt);
    expect(second.devnet.epochIndex(1)).toBe(epochs);
    expect(second.devnet.metagraph(1)?.validatorPermit[0]).toBe(true);
    // The demo helper is idempotent on a resumed chain: same uids, no duplicate registrations.
    const demo = createDemoSubnet(second.devnet, {
      experts: [{ hotkeyUri: "//E0" }, { hotkeyUri: "//E1" }],
      validator: "//V",
      ownerColdkeyUri: "//Owner",
    });
    expect(demo.experts.map((e) => e.uid)).toEqual([1, 2]);
    expect(second.devnet.metagraph(1)?.n).toBe(3);
    await second.stop();
  });

  it("refuses to start from a corrupt file instead of overwriting it", async () => {
    const path = await tempPath();
    await writeFile(path, '{"version":1,"block":"x"}');
    await expect(
      openFileBackedDevnet(
        { path },
        () => createDevnet(),
        (json) => restoreDevnet(json),
      ),
    ).rejects.toThrow(/invalid/);
    expect(await readFile(path, "utf8")).toBe('{"version":1,"block":"x"}');
  });
});
