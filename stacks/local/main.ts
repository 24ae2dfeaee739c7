/**
 * `npm start`: the whole market on this machine, as one process tree. Settings come from the environment
 * (core/config/schema.ts); the data folder keeps keys, credits, jobs, scores and the chain across restarts.
 * Ctrl-C (SIGINT) or SIGTERM stops the workers (they drain), the validator, the API, the chain (saved) and the
 * emulators, in that order, and exits.
 */
import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { createLogger } from "../../adapters/log/logger.ts";
import { ConfigError, type MarketConfig, parseConfig } from "../../core/config/schema.ts";
import { startMarket } from "../market.ts";
import { resolveAdminToken } from "./admin-token.ts";
import { printBanner } from "./banner.ts";

async function main(): Promise<number> {
  let config: MarketConfig;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    return 2;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const log = createLogger({ level: config.MARKET_LOG_LEVEL, component: "market" });
  // Last line of defence: a stray rejection is logged, never allowed to take the whole market down.
  process.on("unhandledRejection", (error) => log.error("unhandled rejection", { error }));
  const dataDir = resolve(config.MARKET_DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const admin = await resolveAdminToken(dataDir, config.MARKET_ADMIN_TOKEN);

  const market = await startMarket({
    config,
    dataDir,
    persistent: true,
    adminToken: admin.token,
    workers: "child",
    validator: "timer",
    blocks: "timer",
    log,
  });
  printBanner({ market, config, dataDir, admin });

  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn("second signal: exiting now", { signal });
        done(1);
        return;
      }
      stopping = true;
      log.info("stopping the market", { signal });
      market.stop().then(
        () => {
          log.info("stopped; data kept", { dataDir });
          done(0);
        },
        (error: unknown) => {
          log.error("stop failed", { error });
          done(1);
        },
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
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
