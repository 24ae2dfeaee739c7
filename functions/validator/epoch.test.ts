import { describe, expect, it } from "vitest";
import { silentLogger } from "../../adapters/log/logger.ts";
import { runValidatorEpoch } from "./epoch.ts";
import type { ValidatorDeps } from "./types.ts";

/**
 * The cloud validator ticks every 2 minutes and acts once per epoch: a tick that finds this epoch's weights already
 * claimed must end before the metagraph read (thousands of neurons on a real subnet), with nothing sent.
 */
describe("runValidatorEpoch on a tick after this epoch's submission", () => {
  it("returns 'already submitted' without reading the metagraph", async () => {
    const calls: string[] = [];
    const chain = {
      epochIndex: async () => {
        calls.push("epochIndex");
        return 7;
      },
      hyperparams: async () => {
        calls.push("hyperparams");
        return { revealPeriodEpochs: 1 };
      },
      metagraph: async () => {
        calls.push("metagraph");
        throw new Error("the metagraph must not be read");
      },
    };
    const scores = {
      recentSubmissions: async () => [],
      submission: async (_netuid: number, epoch: number) => (epoch === 7 ? { epoch, status: "accepted" } : null),
    };
    const deps = {
      chain,
      netuid: 3,
      scores,
      log: silentLogger,
      experts: async () => {
        throw new Error("no expert is needed");
      },
    } as unknown as ValidatorDeps;
    const report = await runValidatorEpoch(deps);
    expect(report).toEqual({ epoch: 7, skipped: "weights already submitted this epoch", scores: [], submission: null });
    expect(calls).not.toContain("metagraph");
  });
});
