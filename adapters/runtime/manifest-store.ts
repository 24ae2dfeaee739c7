import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { ExpertManifest } from "../../core/experts/manifest.ts";
import { identityReady, signerFromUri } from "../identity/sr25519.ts";
import { REPO_ROOT } from "./paths.ts";

export const MANIFEST_SUFFIX = ".manifest.json";

/** `${dir}/${id}.manifest.json`: where every expert's manifest lives, next to its model when the model is ours. */
export function manifestPath(dir: string, id: string): string {
  return join(dir, `${id}${MANIFEST_SUFFIX}`);
}

/** Writes the manifest only when its content changes, so that a directory watcher sees no spurious updates. */
export async function writeManifest(dir: string, manifest: ExpertManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = manifestPath(dir, manifest.id);
  const text = `${JSON.stringify(ExpertManifest.parse(manifest), null, 2)}\n`;
  const existing = await readFile(path, "utf8").catch(() => undefined);
  if (existing !== text) await writeFile(path, text);
}

export interface ManifestListing {
  manifests: ExpertManifest[];
  /** Files that were not valid manifests, with the reason (they are skipped, not fatal). */
  rejected: { file: string; reason: string }[];
}

/** Every valid manifest in a directory, sorted by id; a missing directory is an empty listing. */
export async function listManifests(dir: string): Promise<ManifestListing> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith(MANIFEST_SUFFIX)).sort();
  } catch {
    return { manifests: [], rejected: [] };
  }
  const out: ManifestListing = { manifests: [], rejected: [] };
  for (const file of files) {
    try {
      const parsed = ExpertManifest.safeParse(JSON.parse(await readFile(join(dir, file), "utf8")));
      if (parsed.success) out.manifests.push(parsed.data);
      else out.rejected.push({ file, reason: parsed.error.issues[0]?.message ?? "invalid manifest" });
    } catch (error) {
      out.rejected.push({ file, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  out.manifests.sort((a, b) => a.id.localeCompare(b.id));
  return out;
}

/** Manifest paths are relative to the repository root when the file is inside it (portable checkouts). */
export function manifestModelPath(file: string, rootDir: string = REPO_ROOT): string {
  const rel = relative(rootDir, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

/** Secret URI of an expert's demo hotkey on the demo subnet (never used outside the local/demo stack). */
export function demoHotkeyUri(id: string): string {
  return `//market-demo//expert//${id}`;
}

/** The demo hotkey's ss58 address of an expert id (the secret stays with the demo miner, never in a manifest). */
export async function demoHotkey(id: string): Promise<{ hotkey: string }> {
  await identityReady();
  return { hotkey: signerFromUri(demoHotkeyUri(id)).address };
}
