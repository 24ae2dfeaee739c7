// A real (untrained, seeded) 784-64-10 MLP written as ONNX, with its manifest: integration tests and the benchmark
// need real onnxruntime work without training. Written through the runtime adapter's own ONNX writer.
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { signerFromUri } from "../../adapters/identity/sr25519.ts";
import { mlpToOnnx } from "../../adapters/runtime/onnx-writer.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { initMlp } from "../../core/experts/train/mlp.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";

/** Writes `${dir}/${id}.onnx` and `${dir}/${id}.manifest.json`; call identityReady() first. */
export async function writeMlpExpert(
  dir: string,
  id: string,
  opts: { hotkeyUri?: string; sizes?: number[]; seed?: number; writeManifest?: boolean } = {},
): Promise<ExpertManifest> {
  const sizes = opts.sizes ?? [784, 64, 10];
  const bytes = mlpToOnnx(initMlp(sizes, mulberry32(opts.seed ?? 7)));
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${id}.onnx`);
  await writeFile(path, bytes);
  const hotkeyUri = opts.hotkeyUri ?? `//worker-test//${id}`;
  const manifest: ExpertManifest = {
    id,
    task: "digits",
    hotkey: signerFromUri(hotkeyUri).address,
    runner: "classifier",
    model: {
      path,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      inputs: [{ name: "x", type: "float32", dims: [null, sizes[0] ?? 784] }],
      outputs: [{ name: "probs", type: "float32", dims: [null, sizes[sizes.length - 1] ?? 10] }],
    },
    description: "seeded untrained MLP (tests)",
  };
  if (opts.writeManifest !== false)
    await writeFile(join(dir, `${id}.manifest.json`), JSON.stringify(manifest, null, 2));
  return manifest;
}
