import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { MANIFEST_SUFFIX } from "../adapters/runtime/manifest-store.ts";
import { ExpertManifest } from "../core/experts/manifest.ts";

export interface ManifestScan {
  readonly manifests: ExpertManifest[];
  /** Files that could not be read or parsed, with why; the rest still load. */
  readonly problems: { readonly file: string; readonly error: string }[];
}

/**
 * Reads every `*.manifest.json` file of `dir` as an ExpertManifest (other files, e.g. build stamps, are not
 * manifests). A missing directory is an empty scan, not an error.
 */
export async function scanManifestDir(dir: string): Promise<ManifestScan> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith(MANIFEST_SUFFIX)).sort();
  } catch (error) {
    if (isNotFound(error)) return { manifests: [], problems: [] };
    throw error;
  }
  const manifests: ExpertManifest[] = [];
  const problems: { file: string; error: string }[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const file = join(dir, name);
    try {
      const parsed = ExpertManifest.safeParse(JSON.parse(await readFile(file, "utf8")));
      if (!parsed.success) {
        problems.push({ file, error: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") });
      } else if (seen.has(parsed.data.id)) {
        problems.push({ file, error: `duplicate expert id ${parsed.data.id}` });
      } else {
        seen.add(parsed.data.id);
        manifests.push(parsed.data);
      }
    } catch (error) {
      // A file being written while we read it fails to parse; the next poll picks it up.
      problems.push({ file, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { manifests, problems };
}

function isNotFound(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";
}

/** Identity of a manifest's served content: a change of any of these means the expert must be reloaded. */
export function manifestFingerprint(m: ExpertManifest): string {
  return JSON.stringify([m.hotkey, m.task, m.runner, m.model.path, m.model.sha256]);
}
