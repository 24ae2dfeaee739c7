import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ROOT } from "./local-process.ts";

it("npm start refuses bad worker settings at once, naming them, instead of restarting workers that refuse them", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "market-worker-settings-"));
  try {
    const started = Date.now();
    const run = spawnSync(process.execPath, ["--import", "tsx", "stacks/local/main.ts"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        MARKET_DATA_DIR: dataDir,
        PORT: "0",
        WORKER_BATCH_RULES: JSON.stringify([{ runner: "silero-vad", batch: { maxBatchsize: 4 } }]),
      },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("invalid worker settings");
    expect(run.stderr).toContain('batchRules.0.batch: Unrecognized key: "maxBatchsize"');
    // Before the market loads (seconds): nothing was started, so there is nothing to stop.
    expect(Date.now() - started).toBeLessThan(30_000);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
