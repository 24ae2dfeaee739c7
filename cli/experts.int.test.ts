import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { identityReady, signerFromUri } from "../adapters/identity/sr25519.ts";
import { listManifests } from "../adapters/runtime/manifest-store.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { mlpToOnnx } from "../adapters/runtime/onnx-writer.ts";
import { initMlp, roundToFloat32 } from "../core/experts/train/mlp.ts";
import { mulberry32 } from "../core/tasks/prng.ts";
import { seedExperts, sharedExperts } from "../stacks/ephemeral/experts-cache.ts";
import { ensureExperts, expertsDir } from "./experts.ts";
import { addExpert, onExpertAdded, run } from "./experts-group.ts";

let dataDir: string;
let goodModel: string;
let wrongModel: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "experts-cli-"));
  goodModel = join(dataDir, "My Model.onnx");
  wrongModel = join(dataDir, "wrong.onnx");
  await writeFile(goodModel, mlpToOnnx(roundToFloat32(initMlp([784, 8, 10], mulberry32(1)))));
  await writeFile(wrongModel, mlpToOnnx(roundToFloat32(initMlp([100, 8, 10], mulberry32(1)))));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("ensureExperts", () => {
  // A whole build from an empty folder is what every test's shared experts come from (test/global-setup.ts), and
  // adapters/runtime/digit-experts.int.test.ts checks one against them: here a seeded copy loses files.
  it("rebuilds only the missing experts, byte for byte, and then leaves them alone", async () => {
    await seedExperts(dataDir);
    const dir = expertsDir(dataDir);
    const shared = expertsDir(await sharedExperts());
    const untouched = join(dir, "spec04.onnx");
    const before = (await stat(untouched)).mtimeMs;
    const modelKept = (await stat(join(dir, "spec59.onnx"))).mtimeMs;
    // A trained expert's model (the quickest to train), a copy's, a manifest alone, and a manifest left empty (as a
    // crash mid-write leaves it): that expert would be dropped at boot, though its model is intact.
    await rm(join(dir, "weak-generalist.onnx"));
    await rm(join(dir, "copy04.onnx"));
    await rm(join(dir, "noise.manifest.json"));
    await writeFile(join(dir, "spec59.manifest.json"), "");
    const logs: string[] = [];
    const first = await ensureExperts(dataDir, (m) => logs.push(m));
    expect(logs.filter((l) => l.includes("building"))).toEqual([
      `experts: rebuilding spec59, weak-generalist, copy04, noise (missing or changed) in ${dir}`,
    ]);
    expect(first.map((m) => m.id)).toContain("spec59");
    expect((await stat(join(dir, "spec59.onnx"))).mtimeMs).toBe(modelKept); // its manifest only, no training
    for (const id of ["weak-generalist", "copy04", "noise", "vad-v6"]) expect(first.map((m) => m.id)).toContain(id);
    for (const file of ["weak-generalist.onnx", "noise.onnx", "copy04.onnx"])
      expect((await readFile(join(dir, file))).equals(await readFile(join(shared, file)))).toBe(true);
    expect((await stat(untouched)).mtimeMs).toBe(before);
    const noise = first.find((m) => m.id === "noise");
    expect(noise?.model.path).toBe(join(dir, "noise.onnx"));
    const stamp = join(dir, "digits-build.json");
    const stamped = (await stat(stamp)).mtimeMs;
    const second = await ensureExperts(dataDir, (m) => logs.push(m));
    expect(second).toEqual(first);
    expect((await stat(stamp)).mtimeMs).toBe(stamped);
    expect(logs.filter((l) => l.includes("building"))).toHaveLength(1);
  });

  it("rebuilds when a model file was changed on disk", async () => {
    const file = join(expertsDir(dataDir), "noise.onnx");
    const original = await readFile(file);
    await writeFile(file, Buffer.concat([original, Buffer.from([0])]));
    const logs: string[] = [];
    await ensureExperts(dataDir, (m) => logs.push(m));
    expect(logs.some((l) => l.includes("rebuilding noise "))).toBe(true);
    expect((await readFile(file)).equals(original)).toBe(true);
  });
});

describe("experts add", () => {
  it("fails with a message naming the tensor and the expected shape when the model has the wrong shape", async () => {
    await expect(addExpert({ dataDir, task: "digits", modelPath: wrongModel })).rejects.toThrow(
      'input tensor "x" is float32[batch,100]; expected float32[?,784]',
    );
  });

  it("the CLI verb is gone: it points to the miner's own wallet path and writes nothing", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    process.env.MARKET_DATA_DIR = dataDir;
    const before = (await listManifests(expertsDir(dataDir))).manifests.length;
    try {
      expect(await run(["add", "--task", "digits", "--model", goodModel])).toBe(2);
      const said = err.mock.calls.map((c) => String(c[0])).join("");
      expect(said).toContain("miner wallet create");
      expect(said).toContain("miner commit");
    } finally {
      err.mockRestore();
      delete process.env.MARKET_DATA_DIR;
    }
    expect((await listManifests(expertsDir(dataDir))).manifests.length).toBe(before);
  });

  it("copies a conforming model with a manifest and a demo hotkey, runs the hook, and the runtime loads it", async () => {
    const seen: string[] = [];
    onExpertAdded(async (m) => {
      seen.push(m.id);
    });
    const manifest = await addExpert({ dataDir, task: "digits", modelPath: goodModel });
    expect(manifest.id).toBe("my-model");
    await identityReady();
    expect(manifest.hotkey).toBe(signerFromUri("//market-demo//expert//my-model").address);
    expect(seen).toEqual(["my-model"]);
    const model = await createOnnxRuntime({ log: () => {} }).load(manifest);
    const [out] = (await model.runBatch([new Array(784).fill(0.2)])) as { probs: number[] }[];
    await model.close();
    expect(out?.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await expect(addExpert({ dataDir, task: "digits", modelPath: goodModel })).rejects.toThrow(/already exists/);
    await expect(addExpert({ dataDir, task: "speech", modelPath: goodModel, id: "x1" })).rejects.toThrow(
      /does not accept/,
    );
    await expect(addExpert({ dataDir, task: "digits", modelPath: goodModel, id: "Bad Id" })).rejects.toThrow(
      /invalid expert id/,
    );
  });
});
