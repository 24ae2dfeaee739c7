import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDashboardAssets } from "./build.ts";

describe("the dashboard's Vite build", () => {
  const root = mkdtemp(join(tmpdir(), "dashboard-build-"));
  afterAll(async () => rm(await root, { recursive: true, force: true }));

  it("builds the fixed names the page links, then only when its sources changed", async () => {
    const outDir = join(await root, "dist");
    expect(await buildDashboardAssets({ quiet: true, outDir })).toBe(true);
    expect((await readdir(outDir)).sort()).toEqual([".source-sha256", "dashboard.css", "dashboard.js"]);
    expect(await buildDashboardAssets({ quiet: true, outDir })).toBe(false);
    // A stamp of other sources (an older checkout) is stale: rebuilt.
    await writeFile(join(outDir, ".source-sha256"), "0".repeat(64));
    expect(await buildDashboardAssets({ quiet: true, outDir })).toBe(true);
    expect((await readdir(await root)).sort()).toEqual(["dist"]);
  });
});
