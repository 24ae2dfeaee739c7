import { resourcePrefix } from "./naming";
import { secrets } from "./secrets";

/**
 * The market's settings (core/config/schema.ts) as the functions receive them. Secrets reach the functions as
 * encrypted environment variables of their configuration, never through logs or the API.
 */
export const marketEnvironment = {
  MARKET_RESOURCE_PREFIX: resourcePrefix,
  MARKET_DATA_DIR: "deploy",
  MARKET_CHAIN_URL: secrets.ChainUrl.value,
  MARKET_ADMIN_TOKEN: secrets.AdminToken.value,
  MARKET_VALIDATOR_MNEMONIC: secrets.ValidatorMnemonic.value,
  MARKET_GATEWAY_MNEMONIC: secrets.GatewayMnemonic.value,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
