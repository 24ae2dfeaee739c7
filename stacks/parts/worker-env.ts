import { readFileSync } from "node:fs";
import { parseWorkerConfig, WorkerConfigError } from "../../gpu-workers/config.ts";

/**
 * The environment of a worker child process, built from an allow-list. Workers load miner-supplied models, so they
 * must not inherit the market's secrets (admin token, gateway and validator mnemonics) nor anything else the parent
 * happens to hold. A worker gets: what node and onnxruntime need to run, its own settings (WORKER_*, the resource
 * prefix, the log level, the AWS endpoints and region) and, only when it talks to a real queue or table service,
 * the AWS credentials it needs for that. Everything else of the parent's environment stays in the parent.
 */

/** Operating-system variables node, tsx (its cache lives in the temp folder) and onnxruntime read. No secrets. */
const OS_VARIABLES = ["PATH", "HOME", "TMPDIR", "TMP", "TEMP", "LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH", "SystemRoot"];

/** The AWS SDK's credential settings: the one secret a worker needs, and only against a non-emulated service. */
const AWS_CREDENTIAL_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
];

/** A worker's own settings (gpu-workers/config.ts), e.g. WORKER_BATCH_MAX set by the operator for tuning. */
const WORKER_SETTING = /^WORKER_[A-Z0-9_]+$/;

export interface WorkerEnvOptions {
  readonly parent: Readonly<Record<string, string | undefined>>;
  readonly workerId: string;
  readonly region: string;
  readonly resourcePrefix: string;
  readonly logLevel: string;
  readonly expertsDir: string;
  /** The worker's own key file (its folder, mode 0600); the path only, never the secret. */
  readonly servingKeyFile: string;
  /** The model store folder the worker serves the directory of (and its own cache of models); absent: expertsDir. */
  readonly modelStore?: { readonly dir: string; readonly cacheDir: string };
  readonly gatewayAddress: string;
  readonly trustedSenders: readonly string[];
  /** Endpoints of the emulators this stack started; undefined where the worker uses a real service. */
  readonly sqsEndpoint: string | undefined;
  readonly dynamoEndpoint: string | undefined;
  /** Both services are emulators: they check no credentials, but the SDK will not sign without some. */
  readonly emulatedOnly: boolean;
}

export function workerEnv(options: WorkerEnvOptions): Record<string, string> {
  const { parent } = options;
  const env: Record<string, string> = {};
  const copy = (name: string) => {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  };
  for (const name of OS_VARIABLES) copy(name);
  for (const name of Object.keys(parent)) if (WORKER_SETTING.test(name)) copy(name);
  if (options.emulatedOnly || parent.AWS_ACCESS_KEY_ID === undefined) {
    // Emulators (and moto) accept any key; the parent's real credentials, if any, are not needed there.
    env.AWS_ACCESS_KEY_ID = "local";
    env.AWS_SECRET_ACCESS_KEY = "local";
  } else {
    for (const name of AWS_CREDENTIAL_VARIABLES) copy(name);
  }
  return {
    ...env,
    AWS_REGION: options.region,
    ...(options.sqsEndpoint ? { AWS_ENDPOINT_URL_SQS: options.sqsEndpoint } : {}),
    ...(options.dynamoEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint } : {}),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    MARKET_RESOURCE_PREFIX: options.resourcePrefix,
    MARKET_LOG_LEVEL: options.logLevel,
    WORKER_ID: options.workerId,
    WORKER_EXPERTS_DIR: options.expertsDir,
    WORKER_SERVING_KEY_FILE: options.servingKeyFile,
    ...(options.modelStore
      ? { MARKET_MODEL_STORE_DIR: options.modelStore.dir, WORKER_MODEL_CACHE_DIR: options.modelStore.cacheDir }
      : {}),
    WORKER_GATEWAY_ADDRESS: options.gatewayAddress,
    WORKER_TRUSTED_SENDERS: options.trustedSenders.join(","),
    WORKER_RELOAD_MS: "2000",
    WORKER_PREFER_CUDA: "false",
    // The supervisor holds the other end of the worker's stdin: its end means the supervisor is gone.
    WORKER_EXIT_ON_STDIN_EOF: "true",
  };
}

/**
 * What a worker spawned by this stack would refuse in its settings ([] when nothing), checked before any is spawned:
 * the environment workerEnv builds from `parent` (so exactly the parent's WORKER_* variables a child receives, the
 * ones the stack sets itself replaced), parsed by the worker's own parser. The stack's own values (ids, folders, the
 * gateway and trusted keys) are valid by construction and stand in here as placeholders. Problems name settings,
 * never secret values.
 */
export function workerSettingsProblems(
  parent: Readonly<Record<string, string | undefined>>,
  stack: Pick<WorkerEnvOptions, "region" | "resourcePrefix" | "logLevel"> = {
    region: "us-east-1",
    resourcePrefix: "market-local-",
    logLevel: "info",
  },
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): string[] {
  const child = workerEnv({
    ...stack,
    parent,
    workerId: "worker-1",
    expertsDir: "experts",
    servingKeyFile: "worker-1/serving-key.json",
    gatewayAddress: "",
    trustedSenders: [],
    sqsEndpoint: undefined,
    dynamoEndpoint: undefined,
    emulatedOnly: true,
  });
  try {
    parseWorkerConfig(child, readFile);
    return [];
  } catch (error) {
    if (error instanceof WorkerConfigError) return [...error.problems];
    throw error;
  }
}
