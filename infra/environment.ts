import { modelStore } from "./models";
import { resourcePrefix } from "./naming";
import { secretParameterNames } from "./secrets";
import { stage } from "./stage";

/**
 * The market's settings (core/config/schema.ts) as each function receives them: plain configuration only. Secrets
 * never appear here: MARKET_SECRET_PARAMETERS names the SSM parameters a function reads at cold start, and each
 * function's role may read only its own (infra/iam.ts).
 */
const common = {
  MARKET_RESOURCE_PREFIX: resourcePrefix,
  MARKET_CHAIN_URL: stage.chainUrl,
  MARKET_NETUID: String(stage.netuid),
};

/** Per-task prices as JSON (task id -> micro-credits), only when the stage overrides core's defaults. */
const prices: Record<string, string> =
  Object.keys(stage.prices).length > 0 ? { MARKET_TASK_PRICES: JSON.stringify(stage.prices) } : {};

export const apiEnvironment = {
  ...common,
  ...prices,
  MARKET_VALIDATOR_HOTKEY: stage.validatorHotkey,
  MARKET_PLATFORM_CUT_BPS: String(stage.platformCutBps),
  // The function times out at 40 s: a synchronous wait must end before, or the client gets a 502 with no id.
  MARKET_WAIT_SECONDS: "25",
  MARKET_MAX_WAIT_SECONDS: "30",
  MARKET_SECRET_PARAMETERS: secretParameterNames(["AdminToken", "GatewayMnemonic"]),
};

export const validatorEnvironment = {
  ...common,
  MARKET_MODEL_BUCKET: modelStore.name,
  MARKET_SECRET_PARAMETERS: secretParameterNames(["ValidatorMnemonic"]),
};

export const sweeperEnvironment = { MARKET_RESOURCE_PREFIX: resourcePrefix };

export const settlerEnvironment = {
  MARKET_RESOURCE_PREFIX: resourcePrefix,
  MARKET_PLATFORM_CUT_BPS: String(stage.platformCutBps),
};
