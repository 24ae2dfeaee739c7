import { withSecretParameters } from "../../adapters/aws/secret-parameters.ts";
import { connectSubtensor } from "../../adapters/chain/subtensor/chain.ts";
import { createLogger } from "../../adapters/log/logger.ts";
import { readDirectory } from "../../adapters/model-store/directory.ts";
import { modelStoreFromEnv } from "../../adapters/model-store/from-env.ts";
import { mediaDecoders } from "../../adapters/runtime/decoders.ts";
import { parseConfig } from "../../core/config/schema.ts";
import type { Chain } from "../../core/ports/chain.ts";
import { createTaskRegistry } from "../../core/tasks/registry.ts";
import { chainDirectory } from "../market/chain-directory.ts";
import { taskServing } from "../market/miners.ts";
import { type FollowReport, followChain } from "./follow.ts";

/**
 * The directory follower (infra/directory.ts: a tick every minute, one at a time): the only writer of the published
 * expert directory in the cloud. Each invocation connects to the chain, rebuilds the directory from the miners'
 * commitments on every new block until shortly before the next tick, and closes the connection, so a commitment
 * is published within a poll plus a refresh of its block (issue 15: served within 10 s; budget in infra/directory.ts).
 * The builder lives as long as the container: models' sizes and the first committers stay known between ticks
 * (the first committers are also in the published document, for a fresh container).
 */

/** How long one invocation follows at most; with the 70 s timeout, it ends before the next tick starts one. */
export const FOLLOW_MS = 58_000;
/** Left to close the connection and return before the function's timeout, whatever the timeout is. */
export const STOP_BEFORE_TIMEOUT_MS = 8_000;
/** Heads are asked for every second: a block (12 s on Bittensor) is seen within a second of its import. */
export const POLL_MS = 1_000;

const setup = (async () => {
  // No secret: the follower signs nothing. MARKET_SECRET_PARAMETERS is unset, so the environment is used as is.
  const config = parseConfig(await withSecretParameters(process.env));
  const url = config.MARKET_CHAIN_URL;
  if (!url) throw new Error("MARKET_CHAIN_URL is required in the cloud");
  const log = createLogger({ level: config.MARKET_LOG_LEVEL, pretty: false, component: "directory" });
  const store = modelStoreFromEnv(process.env);
  if (!store) throw new Error("MARKET_MODEL_BUCKET (the model store holding the expert directory) is required");
  return { config, url, log, store };
})();
// Started at load to overlap the cold start; a failure surfaces in the handler's await, not as an unhandled rejection.
setup.catch(() => {});

/** The chain connection of the invocation in progress (none between invocations: the container may be frozen). */
let connection: Chain | null = null;
const connected = (): Chain => {
  if (connection === null) throw new Error("no chain connection outside an invocation");
  return connection;
};

const builder = setup.then(({ config, log, store }) =>
  chainDirectory({
    chain: {
      metagraph: (netuid) => connected().metagraph(netuid),
      commitment: (netuid, hotkey) => connected().commitment(netuid, hotkey),
    },
    netuid: config.MARKET_NETUID,
    store,
    tasks: taskServing(createTaskRegistry(mediaDecoders)),
    // The operator's published experts (`experts publish`) whose hotkeys committed nothing stay listed. Read each
    // refresh: a conditional GET, a 304 while nothing changed.
    base: async () => (await readDirectory(store))?.experts ?? [],
    log,
  }),
);
builder.catch(() => {});

/** The fields of Lambda's context this handler reads. */
interface LambdaContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(_event: unknown, context?: LambdaContext): Promise<FollowReport> {
  const { url, log } = await setup;
  const directory = await builder;
  const started = Date.now();
  const left = context?.getRemainingTimeInMillis() ?? FOLLOW_MS + STOP_BEFORE_TIMEOUT_MS;
  const until = started + Math.min(FOLLOW_MS, left - STOP_BEFORE_TIMEOUT_MS);
  const chain = await connectSubtensor({ url });
  connection = chain;
  try {
    const report = await followChain({
      chain,
      refresh: () => directory.refresh(),
      until,
      pollMs: POLL_MS,
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      log,
    });
    log.info("directory follow ended", { ...report, ms: Date.now() - started });
    return report;
  } finally {
    connection = null;
    await chain.close().catch((error: unknown) => log.warn("chain connection did not close cleanly", { error }));
  }
}
