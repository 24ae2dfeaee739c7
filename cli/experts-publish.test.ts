import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readDirectory } from "../adapters/model-store/directory.ts";
import { FolderModelStore } from "../adapters/model-store/folder.ts";
import { runDirectory, runPublish } from "./experts-publish.ts";

function sink() {
  const lines: string[] = [];
  return {
    stream: {
      write(s: string) {
        lines.push(s);
      },
    },
    text: () => lines.join(""),
  };
}

describe("npm run market -- experts publish", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "publish-cli-"));
    vi.stubEnv("MARKET_MODEL_BUCKET", "");
    vi.stubEnv("MARKET_MODEL_STORE_DIR", join(root, "store"));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(root, { recursive: true, force: true });
  });

  it("uploads the manifests' models and writes the directory the functions and workers read", async () => {
    const experts = join(root, "experts");
    await mkdir(experts);
    const model = new TextEncoder().encode("model bytes");
    const sha256 = createHash("sha256").update(model).digest("hex");
    await writeFile(join(experts, "mine.onnx"), model);
    await writeFile(
      join(experts, "mine.manifest.json"),
      JSON.stringify({
        id: "mine",
        task: "digits",
        hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
        hotkeyUri: "//never-published",
        runner: "classifier",
        model: {
          path: join(experts, "mine.onnx"),
          sha256,
          inputs: [{ name: "x", type: "float32", dims: [null, 784] }],
          outputs: [{ name: "y", type: "float32", dims: [null, 10] }],
        },
      }),
    );
    const out = sink();
    const err = sink();
    expect(await runPublish(["--from", experts], out.stream, err.stream)).toBe(0);
    expect(out.text()).toContain("mine");
    const store = new FolderModelStore(join(root, "store"));
    expect(await store.has(sha256)).toBe(true);
    const doc = await readDirectory(store);
    expect(doc?.experts.map((e) => e.id)).toEqual(["mine"]);
    expect(JSON.stringify(doc)).not.toContain("never-published");

    const listed = sink();
    expect(await runDirectory(listed.stream, err.stream)).toBe(0);
    expect(listed.text()).toContain(sha256);
    expect(await runPublish(["--from", experts, "--only", "missing"], out.stream, err.stream)).toBe(1);
    expect(err.text()).toContain("no manifest for missing");
  });
});
