import { stage } from "./stage";

/**
 * Secrets: set with `npx sst secret set <Name> <value> --stage <stage>` (SST keeps them encrypted in its state
 * bucket). None has a default, so a stage deploys only once each is set: no demo key ever reaches the cloud.
 * Each is copied into an SSM Parameter Store SecureString under /<app>/<stage>/<Name>; functions and tasks get the
 * parameter's *name* (never the value) and an IAM grant to read that one parameter.
 */
const names = {
  AdminToken: "MarketAdminToken",
  GatewayMnemonic: "MarketGatewayMnemonic",
  ValidatorMnemonic: "MarketValidatorMnemonic",
  /**
   * Secret URI of the GPU workers' serving key, which signs every answer (only on stages with GPUs). Its public
   * ss58 address is the stage config's `workerKeys` (MARKET_WORKER_KEYS of the API, settler and validator). No
   * miner's hotkey secret is ever held by the operator.
   */
  WorkerServingKey: "MarketWorkerServingKey",
} as const;

export type SecretKey = keyof typeof names;

function secretParameter(key: SecretKey) {
  const secret = new sst.Secret(names[key]);
  const parameter = new aws.ssm.Parameter(`${names[key]}Parameter`, {
    name: `/${$app.name}/${$app.stage}/${names[key]}`,
    type: "SecureString",
    value: secret.value,
    description: `${names[key]} of ${$app.name} (${$app.stage}); set with sst secret set`,
  });
  return { secret, parameter };
}

export const secrets = {
  AdminToken: secretParameter("AdminToken"),
  GatewayMnemonic: secretParameter("GatewayMnemonic"),
  ValidatorMnemonic: secretParameter("ValidatorMnemonic"),
  ...(stage.gpu.enabled ? { WorkerServingKey: secretParameter("WorkerServingKey") } : {}),
};

/** The setting each secret becomes inside the process (core/config/schema.ts, gpu-workers/config.ts). */
export const SECRET_SETTING: Record<SecretKey, string> = {
  AdminToken: "MARKET_ADMIN_TOKEN",
  GatewayMnemonic: "MARKET_GATEWAY_MNEMONIC",
  ValidatorMnemonic: "MARKET_VALIDATOR_MNEMONIC",
  WorkerServingKey: "WORKER_SERVING_KEY_URI",
};

/**
 * MARKET_SECRET_PARAMETERS: JSON {setting: parameter name} a function resolves at cold start with
 * ssm:GetParameters (WithDecryption) before it parses its settings.
 */
export function secretParameterNames(keys: readonly SecretKey[]) {
  return $jsonStringify(
    Object.fromEntries(
      keys.map((key) => {
        const entry = secrets[key as keyof typeof secrets];
        if (!entry) throw new Error(`secret ${key} is not declared on stage ${$app.stage}`);
        return [SECRET_SETTING[key], entry.parameter.name];
      }),
    ),
  );
}
