/**
 * `npm start`: the whole market on this machine, as one process tree that this process supervises. Settings come
 * from the environment (core/config/schema.ts); the data folder keeps keys, credits, jobs, scores and the chain
 * across restarts.
 *
 * Order matters for failing fast: the data folder's lock and the API port are taken before anything is imported or
 * built, so a second start on a taken folder or port fails within a second, saying which. SIGINT, SIGTERM or SIGHUP
 * (Ctrl-C, `kill <npm pid>`, `timeout`, a process manager, a closed terminal), or the death of the parent, stops the
 * API, the validator, the workers (each gets one SIGTERM and drains), the chain (saved) and the emulators, in that
 * order, once; then the process exits 0. `npm start` execs node (package.json), so npm's forwarded SIGTERM reaches
 * this process: with a shell in between (dash does not exec a `-c` command), the shell died of it and left us.
 */
import { chmod, mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { createLogger, type Logger } from "../../adapters/log/logger.ts";
import { ConfigError, type MarketConfig, parseConfig, SECRET_SETTINGS } from "../../core/config/schema.ts";
import type { Market } from "../market.ts";
import { workerSettingsProblems } from "../parts/worker-env.ts";
import { DataDirInUseError, lockDataDir } from "./data-lock.ts";
import { type ClaimedPort, claimPort, PortInUseError } from "./port-claim.ts";
import { onStopSignals, watchParent } from "./stop-signals.ts";

/** An orderly stop that takes longer than this (a hung component) gives up and exits 1. */
const STOP_DEADLINE_MS = 60_000;

async function main(): Promise<number> {
  let config: MarketConfig;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    return 2;
  }
  // The workers' own settings (WORKER_*), checked now: a worker refuses bad ones at every start, and its supervisor
  // would only restart it again and again.
  const workerProblems =
    config.MARKET_WORKERS > 0
      ? workerSettingsProblems(process.env, {
          region: config.AWS_REGION,
          resourcePrefix: config.MARKET_RESOURCE_PREFIX,
          logLevel: config.MARKET_LOG_LEVEL,
        })
      : [];
  if (workerProblems.length > 0) {
    process.stderr.write(`invalid worker settings:\n${workerProblems.map((p) => `  - ${p}`).join("\n")}\n`);
    return 2;
  }
  // The secrets now live in `config` only: nothing this process spawns later can inherit them by accident.
  for (const name of SECRET_SETTINGS) delete process.env[name];
  // Everything the market writes (tables, chain state, the experts' hotkeys, the admin token, the lock) is private
  // to this user: files 0600, folders 0700. The workers inherit the mask.
  process.umask(0o077);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const log = createLogger({ level: config.MARKET_LOG_LEVEL, component: "market" });
  // Last line of defence: a stray rejection is logged, never allowed to take the whole market down.
  process.on("unhandledRejection", (error) => log.error("unhandled rejection", { error }));

  const dataDir = resolve(config.MARKET_DATA_DIR);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700); // a folder made by an earlier version, or by hand, may be 0755
  let port: ClaimedPort;
  try {
    const lock = lockDataDir(dataDir);
    process.on("exit", () => lock.release());
    port = await claimPort(config.HOST, config.PORT);
  } catch (error) {
    if (error instanceof DataDirInUseError || error instanceof PortInUseError) {
      process.stderr.write(`the market cannot start: ${error.message}\n`);
      return 1;
    }
    throw error;
  }

  let market: Market | null = null;
  let settle: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    settle = resolve;
  });
  const stop = (reason: string) => {
    if (market === null) {
      // Still building: nothing is in flight yet. Exiting closes the workers' stdin (and the exit hook signals
      // them), so they leave too; the lock is released by its exit hook.
      log.warn("stopped while starting", { reason });
      settle(reason === "SIGINT" ? 130 : 143);
      return;
    }
    log.info("stopping the market", { reason });
    const started = Date.now();
    setTimeout(() => {
      log.error("stop did not finish in time; exiting", { afterMs: STOP_DEADLINE_MS });
      settle(1);
    }, STOP_DEADLINE_MS).unref();
    market.stop().then(
      () => {
        log.info("stopped; data kept", { dataDir, stopMs: Date.now() - started });
        settle(0);
      },
      (error: unknown) => {
        log.error("stop failed", { error });
        settle(1);
      },
    );
  };
  let stopping = false;
  const stopOnce = (reason: string) => {
    if (stopping) return;
    stopping = true;
    stop(reason);
  };
  onStopSignals({
    onStop: stopOnce,
    onDuplicate: (signal) => log.debug("repeated signal ignored (npm forwards the terminal's)", { signal }),
    onForce: (signal) => {
      log.warn("second signal: exiting now", { signal });
      settle(1);
    },
  });
  watchParent(() => stopOnce("parent exited"));

  // The start runs beside the signal handlers, so a signal while it builds ends the process at once.
  start(config, dataDir, port, log).then(
    (started) => {
      market = started;
    },
    (error: unknown) => {
      process.stderr.write(
        `the market failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      settle(1);
    },
  );
  return exited;
}

async function start(config: MarketConfig, dataDir: string, port: ClaimedPort, log: Logger): Promise<Market> {
  // Imported only now: loading the whole market takes seconds, and a start that cannot run must not wait for it.
  const [{ startMarket }, { resolveAdminToken }, { printBanner }] = await Promise.all([
    import("../market.ts"),
    import("./admin-token.ts"),
    import("./banner.ts"),
  ]);
  const admin = await resolveAdminToken(dataDir, config.MARKET_ADMIN_TOKEN);
  // The dashboard's script and styles (GET /), built like the experts: only when missing or stale. Its tables are
  // served without them, so a failed build costs the charts, not the market.
  await import("../../web/build.ts")
    .then(({ buildDashboardAssets }) => buildDashboardAssets({ quiet: true }))
    .then((built) => built && log.info("dashboard assets built", {}))
    .catch((error: unknown) => log.warn("dashboard assets could not be built: the page has no charts", { error }));
  const market = await startMarket({
    config,
    dataDir,
    persistent: true,
    adminToken: admin.token,
    workers: "child",
    validator: "timer",
    blocks: "timer",
    log,
    listener: port,
  });
  printBanner({ market, config, dataDir, admin });
  return market;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `the market failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
