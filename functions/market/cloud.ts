import { createDynamoClient, createSqsClient } from "../../adapters/aws/clients.ts";
import { withSecretParameters } from "../../adapters/aws/secret-parameters.ts";
import { connectSubtensor } from "../../adapters/chain/subtensor/chain.ts";
import { identityReady, signerFromUri } from "../../adapters/identity/sr25519.ts";
import { createLogger, type Logger } from "../../adapters/log/logger.ts";
import { cachedDirectory } from "../../adapters/model-store/directory.ts";
import { modelStoreFromEnv, modelUploadsFromEnv } from "../../adapters/model-store/from-env.ts";
import { mediaDecoders } from "../../adapters/runtime/decoders.ts";
import { type MarketConfig, parseConfig } from "../../core/config/schema.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { Chain } from "../../core/ports/chain.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";
import type { ModelUploads } from "../../core/ports/model-uploads.ts";
import type { Signer } from "../../core/ports/signer.ts";
import { createTaskRegistry, type TaskRegistry } from "../../core/tasks/registry.ts";
import { expertDirectory, type MarketDirectory } from "./directory.ts";
import { type MarketStores, marketStores } from "./stores.ts";

/**
 * How stale the directory may be in a function: its part of issue 15's 10 s from commitment to service (the budget is
 * in infra/directory.ts). A re-read of an unchanged directory is a conditional GET answered 304 without a body
 * (S3ModelStore.readDirectory), so a busy container pays one small request every 2 s.
 */
export const DIRECTORY_CACHE_MS = 2_000;

export interface CloudMarket {
  readonly config: MarketConfig;
  readonly log: Logger;
  readonly stores: MarketStores;
  readonly chain: Chain;
  readonly netuid: number;
  readonly registry: TaskRegistry;
  readonly directory: MarketDirectory;
  /** The validator's hotkey: a signer in the validator function, only its address elsewhere. */
  readonly validator: Signer | null;
  readonly validatorHotkey: string;
  /** The gateway's hotkey (API only). */
  readonly gateway: Signer | null;
  readonly manifests: () => Promise<ExpertManifest[]>;
  /** The model store (S3): models by sha256 and the published directory. */
  readonly store: ModelStore;
  /** Presigned model uploads into the same bucket (the API's miner routes). */
  readonly uploads: ModelUploads;
}

/**
 * What a Lambda function of the deployed market builds once per container: the same stores, chain port, task
 * registry and directory as `npm start`, from the standard AWS settings (no endpoint: AWS itself) and the market's
 * settings. Which hotkey serves which model for which task is the expert directory in the model store
 * (MARKET_MODEL_BUCKET), read at run time: nothing about experts is bundled into the function, so publishing a new
 * expert (`npm run market -- experts publish`) reaches a deployed market without a deploy.
 */
export async function cloudMarket(
  role: "api" | "validator",
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CloudMarket> {
  // Secrets come from SSM Parameter Store (MARKET_SECRET_PARAMETERS names them), never from plain environment.
  const config = parseConfig(await withSecretParameters(env));
  const log = createLogger({ level: config.MARKET_LOG_LEVEL, pretty: false });
  if (!config.MARKET_CHAIN_URL) throw new Error("MARKET_CHAIN_URL is required in the cloud");
  // Each function holds only its own secret: the internet-facing API never sees the validator's mnemonic.
  if (role === "validator" && !config.MARKET_VALIDATOR_MNEMONIC)
    throw new Error("MARKET_VALIDATOR_MNEMONIC is required");
  if (role === "api" && !config.MARKET_GATEWAY_MNEMONIC) throw new Error("MARKET_GATEWAY_MNEMONIC is required");
  await identityReady();
  const validator =
    role === "validator" && config.MARKET_VALIDATOR_MNEMONIC ? signerFromUri(config.MARKET_VALIDATOR_MNEMONIC) : null;
  const validatorHotkey = validator?.address ?? config.MARKET_VALIDATOR_HOTKEY;
  if (!validatorHotkey) throw new Error("MARKET_VALIDATOR_HOTKEY (the validator's ss58 address) is required");
  const region = { region: config.AWS_REGION };
  const stores = marketStores(
    createSqsClient(region),
    createDynamoClient(region),
    config.MARKET_RESOURCE_PREFIX,
    (what, error) => log.warn("corrupt score item ignored", { what, error: String(error) }),
  );
  const store = modelStoreFromEnv(env);
  if (!store) throw new Error("MARKET_MODEL_BUCKET (the model store holding the expert directory) is required");
  const uploads = modelUploadsFromEnv(env);
  if (!uploads) throw new Error("MARKET_MODEL_BUCKET is required");
  const chain = await connectSubtensor({ url: config.MARKET_CHAIN_URL });
  const manifests = cachedDirectory(store, DIRECTORY_CACHE_MS);
  const directory = expertDirectory({
    chain,
    netuid: config.MARKET_NETUID,
    scores: stores.scores,
    manifests,
    validatorHotkey,
  });
  return {
    config,
    log,
    stores,
    chain,
    netuid: config.MARKET_NETUID,
    registry: createTaskRegistry(mediaDecoders),
    directory,
    validator,
    validatorHotkey,
    gateway: role === "api" && config.MARKET_GATEWAY_MNEMONIC ? signerFromUri(config.MARKET_GATEWAY_MNEMONIC) : null,
    manifests,
    store,
    uploads,
  };
}
