import type { Logger } from "../../adapters/log/logger.ts";
import { type EpochReport, runValidatorEpoch } from "../../functions/validator/epoch.ts";
import type { ValidatorDeps } from "../../functions/validator/types.ts";

export interface ValidatorLoop {
  /** Runs one epoch now (tests and the CLI); resolves with its report. */
  runOnce(): Promise<EpochReport>;
  status(): ValidatorStatus;
  stop(): Promise<void>;
}

export interface ValidatorStatus {
  readonly state: "idle" | "running" | "stopped" | "disabled";
  readonly lastEpoch: number | null;
  readonly lastRunAt: number | null;
  readonly lastResult: string | null;
  readonly runs: number;
  readonly failures: number;
}

/**
 * The validator on a timer: it polls the chain's epoch index and runs one validator epoch per chain epoch (the
 * local twin of the scheduled function in the cloud). Runs never overlap; a failed run is logged and retried at
 * the next poll, because an epoch is claimed in the score store only when weights are about to be sent. So is a
 * run that found the subnet's weights rate limit not yet passed (epoch.ts `rateLimited`): it scored nothing.
 */
export function startValidatorLoop(
  baseDeps: ValidatorDeps,
  options: {
    pollMs: number;
    enabled: boolean;
    log: Logger;
    stopGraceMs?: number;
    /** One epoch of this validator's role (functions/validator/adversary.ts); default the honest epoch. */
    runEpoch?: (deps: ValidatorDeps) => Promise<EpochReport>;
  },
): ValidatorLoop {
  // Stopping aborts a run that is waiting for answers, so Ctrl-C does not wait out an epoch's deadline. The run
  // checks the signal only between polls and its sleeps would finish first: sleeps end early on abort here.
  const abort = new AbortController();
  const deps: ValidatorDeps = {
    ...baseDeps,
    signal: abort.signal,
    sleep: async (ms) => {
      if (abort.signal.aborted) return;
      let wake = () => {};
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      // Removed after each sleep: one listener per poll would pile up over a long-running market.
      abort.signal.addEventListener("abort", wake, { once: true });
      try {
        await Promise.race([baseDeps.sleep(ms), woken]);
      } finally {
        abort.signal.removeEventListener("abort", wake);
      }
    },
  };
  let state: ValidatorStatus["state"] = options.enabled ? "idle" : "disabled";
  let lastEpoch: number | null = null;
  let lastRunAt: number | null = null;
  let lastResult: string | null = null;
  let runs = 0;
  let failures = 0;
  let current: Promise<EpochReport> | null = null;
  /** The epoch whose run is over: a run that waited for the weights rate limit leaves it open for the next poll. */
  let doneEpoch: number | null = null;
  /** The epoch whose wait for the rate limit was logged (once an epoch, not once a poll). */
  let waitLogged: number | null = null;

  const runOnce = (): Promise<EpochReport> => {
    current ??= (async () => {
      const previous = state;
      state = "running";
      try {
        const report = await (options.runEpoch ?? runValidatorEpoch)(deps);
        runs++;
        lastEpoch = report.epoch;
        if (report.waitBlocks === undefined) doneEpoch = report.epoch;
        else if (waitLogged !== report.epoch) {
          waitLogged = report.epoch;
          options.log.info("validator waits for the subnet's weights rate limit", {
            epoch: report.epoch,
            blocks: report.waitBlocks,
          });
        }
        lastRunAt = deps.now();
        lastResult = report.skipped ?? report.submission?.status ?? "scored";
        return report;
      } catch (error) {
        failures++;
        lastResult = `failed: ${error instanceof Error ? error.message : String(error)}`;
        throw error;
      } finally {
        state = previous === "disabled" ? "disabled" : "idle";
        current = null;
      }
    })();
    return current;
  };

  const tick = async () => {
    if (state !== "idle") return;
    try {
      const epoch = await deps.chain.epochIndex(deps.netuid);
      if (epoch === doneEpoch) return;
      await runOnce();
    } catch (error) {
      if (abort.signal.aborted) return; // stopped mid-epoch: the run gave up on purpose
      options.log.error("validator epoch failed", { error });
    }
  };
  const timer = options.enabled ? setInterval(() => void tick(), options.pollMs) : null;
  timer?.unref();
  if (options.enabled) void tick();

  return {
    runOnce,
    status: () => ({ state, lastEpoch, lastRunAt, lastResult, runs, failures }),
    async stop() {
      if (timer) clearInterval(timer);
      state = "stopped";
      abort.abort();
      if (!current) return;
      // A run busy in a step that does not check the signal (scoring, a slow table read under load) is not waited
      // for past a grace: the market stops around it, its late calls fail quietly (the loop sees it was aborted),
      // and an epoch it had not finished is simply run again after the next start.
      const graceMs = options.stopGraceMs ?? 3000;
      let graceTimer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        current.then(
          () => true,
          () => true,
        ),
        new Promise<false>((resolve) => {
          graceTimer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(graceTimer);
      if (!finished) options.log.warn("validator run still busy after stop; not waiting for it", { graceMs });
    },
  };
}
