import { cp, mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as esbuild from "esbuild";
import type { CopyFile } from "./stack.ts";

/**
 * Builds a handler the way SST 4's Node builder does for `sst deploy` (pkg/runtime/node/build.go): esbuild,
 * bundle, platform node, ESM, target esnext, mainFields module,main, keepNames, minified (SST's default), no source
 * map, `sharp` and `pg-native` external, and its banner giving the ESM bundle `require`, `__filename` and
 * `__dirname`. The output is `bundle.mjs` at the root of `outDir` (handler `bundle.<export>`), then the
 * function's copyFiles, as in the zip Lambda unpacks into /var/task.
 */
export const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  "",
].join("\n");

export async function buildLikeSst(options: {
  /** `path/to/file.export`, relative to the repository (as infra declares it). */
  readonly handler: string;
  readonly repoRoot: string;
  readonly outDir: string;
  readonly copyFiles: readonly CopyFile[];
}): Promise<{ exportName: string; bytes: number }> {
  const dot = options.handler.lastIndexOf(".");
  const file = options.handler.slice(0, dot);
  const exportName = options.handler.slice(dot + 1);
  const entry = [".ts", ".mts", ".js", ".mjs"].map((ext) => join(options.repoRoot, `${file}${ext}`));
  const { existsSync } = await import("node:fs");
  const found = entry.find((p) => existsSync(p));
  if (!found) throw new Error(`handler file not found for ${options.handler}`);
  await mkdir(options.outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [found],
    absWorkingDir: options.repoRoot,
    platform: "node",
    external: ["sharp", "pg-native"],
    keepNames: true,
    bundle: true,
    metafile: true,
    outfile: join(options.outDir, "bundle.mjs"),
    sourcemap: false,
    write: true,
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    banner: { js: SST_BANNER },
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: true,
    logLevel: "silent",
  });
  // SST copies `from` to `to`, or to the same relative path when `to` is omitted.
  for (const copy of options.copyFiles) {
    await cp(join(options.repoRoot, copy.from), join(options.outDir, copy.to ?? copy.from), { recursive: true });
  }
  const out = Object.values(result.metafile.outputs)[0];
  return { exportName, bytes: out?.bytes ?? 0 };
}
