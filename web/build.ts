import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const WEB_DIST_DIR = join(REPO, "web", "dist");
const STAMP = ".source-sha256";
/** Everything the bundle is made of: a change to any of these makes the build stale. */
const SOURCES = ["web/dashboard", "web/build.ts", "functions/api/dashboard/format.ts", "package-lock.json"];

async function files(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => null);
  if (!entries) return [path];
  const nested = await Promise.all(entries.map((e) => files(join(path, e.name))));
  return nested.flat().sort();
}

/** sha256 over the sources' paths and bytes (mtimes lie after a checkout). */
export async function sourceDigest(): Promise<string> {
  const hash = createHash("sha256");
  for (const source of SOURCES)
    for (const file of await files(join(REPO, source))) {
      hash.update(file.slice(REPO.length));
      hash.update(await readFile(file));
    }
  return hash.digest("hex");
}

/**
 * Builds the dashboard's script and styles with Vite into web/dist (gitignored) unless the build there is of the
 * same sources. Built in a private folder and renamed into place, so a concurrent start or test never serves half a
 * build. Returns whether it built.
 */
export async function buildDashboardAssets(
  options: { readonly quiet?: boolean; readonly outDir?: string } = {},
): Promise<boolean> {
  const outDir = options.outDir ?? WEB_DIST_DIR;
  const digest = await sourceDigest();
  const current = await readFile(join(outDir, STAMP), "utf8").catch(() => "");
  if (current === digest) return false;
  const { build } = await import("vite");
  const tmp = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await build({
      configFile: false,
      root: join(REPO, "web", "dashboard"),
      logLevel: options.quiet ? "warn" : "info",
      build: {
        outDir: tmp,
        emptyOutDir: false,
        target: "es2022",
        cssCodeSplit: false,
        copyPublicDir: false,
        rolldownOptions: {
          input: join(REPO, "web", "dashboard", "main.ts"),
          // Fixed names: the server-rendered page links /assets/dashboard.js and /assets/dashboard.css.
          output: { entryFileNames: "dashboard.js", assetFileNames: "dashboard[extname]" },
        },
      },
    });
    await writeFile(join(tmp, STAMP), digest);
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir).catch(async (error: unknown) => {
      // Another process put the same build in place first.
      if ((await readFile(join(outDir, STAMP), "utf8").catch(() => "")) !== digest) throw error;
    });
    return true;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildDashboardAssets();
  console.log(built ? `dashboard built into ${WEB_DIST_DIR}` : "dashboard assets are up to date");
}
