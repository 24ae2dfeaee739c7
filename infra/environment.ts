import { resourcePrefix } from "./naming";
import { secrets } from "./secrets";

/**
 * The market's settings (core/config/schema.ts) as each function receives them. Every function gets only the
 * secrets it uses: the internet-facing API never holds the validator's mnemonic, the validator never holds the
 * admin token. Secrets travel as encrypted environment of the function's configuration, never through logs.
 */
const common = {
  MARKET_RESOURCE_PREFIX: resourcePrefix,
  MARKET_DATA_DIR: "deploy",
  MARKET_CHAIN_URL: secrets.ChainUrl.value,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

export const apiEnvironment = {
  ...common,
  MARKET_ADMIN_TOKEN: secrets.AdminToken.value,
  MARKET_GATEWAY_MNEMONIC: secrets.GatewayMnemonic.value,
  MARKET_VALIDATOR_HOTKEY: secrets.ValidatorHotkey.value,
  // The function times out at 40 s: a synchronous wait must end before, or the client gets a 502 with no id.
  MARKET_WAIT_SECONDS: "25",
  MARKET_MAX_WAIT_SECONDS: "30",
};

export const validatorEnvironment = {
  ...common,
  MARKET_VALIDATOR_MNEMONIC: secrets.ValidatorMnemonic.value,
};
