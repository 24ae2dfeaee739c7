import { readFile } from "node:fs/promises";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { SPEECH_EXPERT_SOURCES } from "../../core/experts/speech-experts.ts";
import { demoHotkey, writeManifest } from "./manifest-store.ts";
import { REPO_ROOT, resolveModelPath, sha256Hex } from "./paths.ts";

/**
 * Writes `${outDir}/${id}.manifest.json` for the Silero VAD experts. The models stay inside their npm packages
 * (paths relative to the repository root), so nothing large is copied or committed.
 */
export async function writeSpeechManifests(opts: { outDir: string; rootDir?: string }): Promise<ExpertManifest[]> {
  const rootDir = opts.rootDir ?? REPO_ROOT;
  const manifests: ExpertManifest[] = [];
  for (const source of SPEECH_EXPERT_SOURCES) {
    const file = resolveModelPath(source.path, rootDir);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(file));
    } catch {
      throw new Error(`speech expert ${source.id}: model file ${file} is missing (is the npm package installed?)`);
    }
    const manifest: ExpertManifest = {
      id: source.id,
      task: "speech",
      ...(await demoHotkey(source.id)),
      runner: "silero-vad",
      model: {
        path: source.path,
        sha256: sha256Hex(bytes),
        inputs: source.contract.inputs,
        outputs: source.contract.outputs,
      },
      description: source.description,
    };
    await writeManifest(opts.outDir, manifest);
    manifests.push(manifest);
  }
  return manifests;
}
