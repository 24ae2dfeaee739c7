import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Logger, silentLogger } from "../../adapters/log/logger.ts";
import { ensureExperts } from "../../cli/experts.ts";
import { type MarketConfig, parseConfig } from "../../core/config/schema.ts";
import { type Market, type MarketOptions, startMarket } from "../market.ts";
import { seedExperts, sharedExperts } from "./experts-cache.ts";

export interface EphemeralOptions {
  /** Settings as environment strings (e.g. { MARKET_TEMPO: "10" }); PORT defaults to 0 (a free port). */
  readonly env?: Readonly<Record<string, string>>;
  readonly workers?: MarketOptions["workers"];
  readonly validator?: MarketOptions["validator"];
  readonly blocks?: MarketOptions["blocks"];
  readonly api?: MarketOptions["api"];
  readonly validatorAnswerTimeoutMs?: number;
  readonly validatorTasks?: MarketOptions["validatorTasks"];
  /** Router-training rows sent to every expert on the first epoch (0 skips the bootstrap). */
  readonly routerBootstrapItems?: number;
  /**
   * A private copy of the experts folder instead of a link to the shared cache: for tests that add experts, so
   * they cannot leak into other tests' markets.
   */
  readonly isolateExperts?: boolean;
  /** Logs to stdout when MARKET_TEST_LOG=1, else silent. */
  readonly log?: Logger;
}

export interface EphemeralMarket extends Market {
  readonly config: MarketConfig;
  readonly dataDir: string;
}

/**
 * The same market as `npm start`, for tests and benchmarks: a free port, tables and chain in memory, a fresh
 * temporary folder, a random admin token. Experts are built once per machine into a shared cache folder (they are
 * byte-identical for a seed) and linked in, so each test does not pay the build.
 */
export async function startEphemeralMarket(options: EphemeralOptions = {}): Promise<EphemeralMarket> {
  const config = parseConfig({
    PORT: "0",
    MARKET_RESOURCE_PREFIX: `t${Math.random().toString(36).slice(2, 8)}-`,
    MARKET_WORKERS: "1",
    MARKET_BLOCK_MS: "100",
    MARKET_TEMPO: "20",
    // One validator unless a test asks for more: tests drive the primary by hand, and validators that never set
    // weights would hold stake that zeroes every consensus weight (they take part in Yuma's median).
    MARKET_VALIDATORS: "1",
    // Tests run side by side: the devnet's JSON-RPC (miners' tools, MARKET_CHAIN=rpc) takes any free port.
    MARKET_DEVNET_RPC_PORT: "0",
    ...options.env,
  });
  const dataDir = await mkdtemp(join(tmpdir(), "market-ephemeral-"));
  const cache = await sharedExperts();
  await ensureExperts(cache, () => {}); // refreshes the speech manifests; the digit experts are fresh
  if (options.isolateExperts) {
    await seedExperts(dataDir);
  } else {
    await symlink(join(cache, "experts"), join(dataDir, "experts"), "dir").catch(() => seedExperts(dataDir));
  }
  const log =
    options.log ??
    (process.env.MARKET_TEST_LOG === "1" ? createLogger({ level: "debug", pretty: false }) : silentLogger);
  const adminToken = `test-admin-${crypto.randomUUID()}`;
  try {
    const market = await startMarket({
      config,
      dataDir,
      persistent: false,
      adminToken,
      workers: options.workers ?? "inprocess",
      validator: options.validator ?? "manual",
      blocks: options.blocks ?? "manual",
      log,
      ...(options.api ? { api: options.api } : {}),
      ...(options.validatorTasks ? { validatorTasks: options.validatorTasks } : {}),
      // Blocks move by hand in tests, so the epoch's length does not bound the wait: give slow CI machines time.
      validatorAnswerTimeoutMs: options.validatorAnswerTimeoutMs ?? 60_000,
      ...(options.routerBootstrapItems === undefined ? {} : { routerBootstrapItems: options.routerBootstrapItems }),
    });
    // With blocks by hand nothing has happened yet: one epoch gives the validator its permit, and the weights rate
    // limit (counted from registration) passes a few blocks later.
    if ((options.blocks ?? "manual") === "manual")
      market.chain.devnet?.advance(Math.ceil(Number(config.MARKET_TEMPO) / 4) + 1);
    return {
      ...market,
      config,
      dataDir,
      async stop() {
        await market.stop();
        // A late write into the folder (seen once in a fresh-clone run: ENOTEMPTY on the timelock test's teardown)
        // must not fail the test that used it: rm retries ENOTEMPTY/EBUSY with a linear back-off.
        await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw error;
  }
}
