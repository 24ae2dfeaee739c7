import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));
const vectorPath = fileURLToPath(new URL("../test/vectors/yuma-s1.json", import.meta.url));

function cli(file: string) {
  return spawnSync(process.execPath, ["--import", "tsx", "cli/epoch.ts", file], {
    cwd: root,
    encoding: "utf8",
  });
}

describe("epoch CLI", () => {
  it("prints exactly the vector's outputs_per_epoch", () => {
    const r = cli(vectorPath);
    expect(r.status).toBe(0);
    const want = JSON.parse(readFileSync(vectorPath, "utf8")).outputs_per_epoch;
    expect(JSON.parse(r.stdout)).toEqual({ outputs_per_epoch: want });
  });

  it("rejects a malformed file with the field's path, exit code 1 and no stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "epoch-cli-"));
    const bad = JSON.parse(readFileSync(vectorPath, "utf8"));
    bad.params.kappa = "half";
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(bad));
    const r = cli(file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("params.kappa");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = cli(join(dir, "absent.json"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("cannot read");
  });
});
