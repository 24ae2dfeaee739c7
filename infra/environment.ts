import { modelStore } from "./models";
import { resourcePrefix } from "./naming";
import { secretParameterNames } from "./secrets";
import { stage } from "./stage";

/**
 * The market's settings (core/config/schema.ts) as each function receives them: plain configuration only. Secrets
 * never appear here: MARKET_SECRET_PARAMETERS names the SSM parameters a function reads at cold start, and each
 * function's role may read only its own (infra/iam.ts). test/cloud/bundled-handlers.test.ts runs every handler with
 * exactly these variables (plus the emulators' endpoints), so a setting missing here fails there.
 */

/**
 * What functions/market/cloud.ts needs in every function that builds it (API, settler, validator): the tables and
 * queues, the chain and subnet, and the model store whose expert directory says which hotkey serves what.
 */
const market = {
  MARKET_RESOURCE_PREFIX: resourcePrefix,
  MARKET_CHAIN_URL: stage.chainUrl,
  MARKET_NETUID: String(stage.netuid),
  MARKET_MODEL_BUCKET: modelStore.name,
  // The GPU workers' serving keys (public): the only keys whose signed answers count (issue 15).
  MARKET_WORKER_KEYS: stage.workerKeys.join(","),
};

/** Per-task prices as JSON (task id -> micro-credits), only when the stage overrides core's defaults. */
const prices: Record<string, string> =
  Object.keys(stage.prices).length > 0 ? { MARKET_TASK_PRICES: JSON.stringify(stage.prices) } : {};

export const apiEnvironment = {
  ...market,
  ...prices,
  MARKET_VALIDATOR_HOTKEY: stage.validatorHotkey,
  MARKET_PLATFORM_CUT_BPS: String(stage.platformCutBps),
  // The function times out at 40 s: a synchronous wait must end before, or the client gets a 502 with no id.
  MARKET_WAIT_SECONDS: "25",
  MARKET_MAX_WAIT_SECONDS: "30",
  MARKET_SECRET_PARAMETERS: secretParameterNames(["AdminToken", "GatewayMnemonic"]),
};

export const validatorEnvironment = {
  ...market,
  MARKET_SECRET_PARAMETERS: secretParameterNames(["ValidatorMnemonic"]),
};

/**
 * The directory follower (functions/directory/lambda.ts) reads the chain and the model store and signs nothing: no
 * tables, no queues, no secret.
 */
export const directoryEnvironment = {
  MARKET_CHAIN_URL: stage.chainUrl,
  MARKET_NETUID: String(stage.netuid),
  MARKET_MODEL_BUCKET: modelStore.name,
};

/** The sweeper builds only the stores (functions/api/sweeper.ts): no chain, no secret. */
export const sweeperEnvironment = { MARKET_RESOURCE_PREFIX: resourcePrefix };

/**
 * The settler builds the same market as the API (functions/settler/lambda.ts): it signs receipts with the gateway
 * hotkey and splits fees by the validator's weights on chain, so it needs both, and the platform's cut. It never
 * sees the admin token.
 */
export const settlerEnvironment = {
  ...market,
  MARKET_VALIDATOR_HOTKEY: stage.validatorHotkey,
  MARKET_PLATFORM_CUT_BPS: String(stage.platformCutBps),
  MARKET_SECRET_PARAMETERS: secretParameterNames(["GatewayMnemonic"]),
};
