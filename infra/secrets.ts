/** Every secret in one place (`sst secret set <Name> <value> --stage <stage>`). Never logged, never returned by the API. */
export const secrets = {
  AdminToken: new sst.Secret("MarketAdminToken"),
  ValidatorMnemonic: new sst.Secret("MarketValidatorMnemonic"),
  GatewayMnemonic: new sst.Secret("MarketGatewayMnemonic"),
  ChainUrl: new sst.Secret("MarketChainUrl", "wss://entrypoint-finney.opentensor.ai:443"),
  /** The validator's public ss58 hotkey (not secret; kept here so one `sst secret set` configures a stage). */
  ValidatorHotkey: new sst.Secret("MarketValidatorHotkey"),
  /** JSON object: expert id -> hotkey secret URI, for the GPU workers that serve those miners. */
  ExpertHotkeys: new sst.Secret("MarketExpertHotkeys", "{}"),
};
export const allSecrets = Object.values(secrets);
