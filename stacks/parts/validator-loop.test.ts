import { describe, expect, it } from "vitest";
import type { Logger } from "../../adapters/log/logger.ts";
import type { EpochReport } from "../../functions/validator/epoch.ts";
import type { ValidatorDeps } from "../../functions/validator/types.ts";
import { waitFor } from "../../gpu-workers/testing/jobs.ts";
import { startValidatorLoop } from "./validator-loop.ts";

/** A logger that keeps its info lines. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: (msg) => lines.push(msg),
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  return logger;
}

describe("validator loop", () => {
  it("runs an epoch that waited for the weights rate limit again at the next poll, and a finished one once", async () => {
    let epoch = 4;
    const runs: number[] = [];
    const replies: Partial<EpochReport>[] = [{ waitBlocks: 3 }, { waitBlocks: 1 }, {}];
    const deps = {
      chain: { epochIndex: async () => epoch },
      netuid: 1,
      sleep: async () => {},
    } as unknown as ValidatorDeps;
    const lines: string[] = [];
    const loop = startValidatorLoop(deps, {
      pollMs: 5,
      enabled: true,
      log: recordingLogger(lines),
      runEpoch: async () => {
        runs.push(epoch);
        const reply = replies.shift() ?? {};
        return { epoch, scores: [], submission: null, ...reply };
      },
    });
    try {
      // Two waits, then the run that sends: three runs of epoch 4, and no more while the epoch lasts.
      await waitFor("three runs", () => runs.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(runs).toEqual([4, 4, 4]);
      // The wait is logged once for the epoch, not once a poll.
      expect(lines.filter((l) => l.includes("rate limit"))).toHaveLength(1);
      epoch = 5;
      await waitFor("the next epoch's run", () => runs.length === 4);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(runs).toEqual([4, 4, 4, 5]);
    } finally {
      await loop.stop();
    }
  });
});
