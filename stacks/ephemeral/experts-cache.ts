import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";
import { DIGIT_BUILD_VERSION } from "../../adapters/runtime/digit-experts-builder.ts";
import { MANIFEST_SUFFIX } from "../../adapters/runtime/manifest-store.ts";
import { REPO_ROOT } from "../../adapters/runtime/paths.ts";
import { digitExpertsFresh, ensureExperts, expertsDir } from "../../cli/experts.ts";

/**
 * The data folder whose `experts/` holds the experts every test and benchmark shares: built once per machine (they
 * are byte-identical for a seed). Keyed by the build version and a digest of the sources the build depends on, so
 * that worktrees with other recipes or trainers share this machine without rebuilding it back and forth or reading
 * a build their code would not make (adapters/runtime/digit-experts.int.test.ts compares its own build with it).
 */
export function sharedExpertsDataDir(): string {
  sourcesDigest ??= buildSourcesDigest();
  return join(tmpdir(), `market-test-experts-v${DIGIT_BUILD_VERSION}-${sourcesDigest}`);
}

let sourcesDigest: string | undefined;

/** What the digit build reads besides the MNIST package: recipes, trainer, data split, ONNX writer. */
const BUILD_SOURCES = ["core/experts", "core/tasks", "adapters/runtime"];

function buildSourcesDigest(): string {
  const hash = createHash("sha256");
  for (const folder of BUILD_SOURCES) {
    const root = join(REPO_ROOT, folder);
    const files = readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .sort();
    for (const file of files)
      hash
        .update(`${folder}/${file}\0`)
        .update(readFileSync(join(root, file)))
        .update("\0");
  }
  return hash.digest("hex").slice(0, 12);
}

/**
 * Builds the shared experts unless a fresh build is there already, and returns its data folder. The build goes to a
 * private folder that is renamed into place, so that a concurrent run (another worktree's, or vitest's globalSetup
 * and a benchmark) never reads half-written files; if two build at once, the first rename wins.
 */
export async function sharedExperts(): Promise<string> {
  const cache = sharedExpertsDataDir();
  if (await digitExpertsFresh(expertsDir(cache))) return cache;
  const staging = await mkdtemp(`${cache}-build-`);
  try {
    await ensureExperts(staging, () => {});
    // Manifests name their model by absolute path when it is outside the repository: point them at the final place.
    await relocateManifests(expertsDir(staging), expertsDir(cache), expertsDir(staging));
    if (!(await digitExpertsFresh(expertsDir(cache)))) {
      await rm(cache, { recursive: true, force: true });
      await rename(staging, cache).catch(async (error: unknown) => {
        // Another process renamed its build into place first: use that one.
        if (!(await digitExpertsFresh(expertsDir(cache)))) throw error;
      });
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return cache;
}

/**
 * Gives `dataDir` its own copy of the shared experts (built first if needed), as a build in that folder would have
 * made them: its manifests name its own model files. The build stamp comes along, so `ensureExperts` (and so
 * `npm start` on that folder) finds the experts fresh and does not build them again.
 */
export async function seedExperts(dataDir: string): Promise<void> {
  const from = expertsDir(await sharedExperts());
  const to = expertsDir(dataDir);
  await mkdir(dataDir, { recursive: true });
  await cp(from, to, { recursive: true });
  await relocateManifests(to, to, from);
  // Private, as the market writes everything in its data folder (umask 077 in stacks/local/main.ts).
  await chmod(to, 0o700);
  for (const file of await readdir(to)) await chmod(join(to, file), 0o600);
}

/** Rewrites, in `dir`'s manifests, model paths that point into `from` so that they point into `to` instead. */
async function relocateManifests(dir: string, to: string, from: string): Promise<void> {
  for (const file of await readdir(dir)) {
    if (!file.endsWith(MANIFEST_SUFFIX)) continue;
    const path = join(dir, file);
    const text = await readFile(path, "utf8");
    const manifest = JSON.parse(text) as { model?: { path?: unknown } };
    const model = manifest.model?.path;
    if (typeof model !== "string" || !isAbsolute(model) || dirname(model) !== from) continue;
    if (manifest.model) manifest.model.path = join(to, basename(model));
    await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
  }
}
