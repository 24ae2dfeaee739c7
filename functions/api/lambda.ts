import { handle } from "hono/aws-lambda";
import { sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { checkOnnxGraphContract } from "../../adapters/runtime/onnx-graph-contract.ts";
import { taskCatalog } from "../market/catalog.ts";
import { cloudMarket } from "../market/cloud.ts";
import { marketDashboardSource } from "../market/dashboard-source.ts";
import { drainingHandler } from "../market/lambda-drain.ts";
import { marketMiners } from "../market/miners.ts";
import { marketRouter } from "../market/router.ts";
import { createApp } from "./app.ts";
import { systemClock } from "./deps.ts";
import { apiSettings } from "./settings.ts";

/**
 * Lambda entry (SST: `handler: "functions/api/lambda.handler"`): only wiring, built once per container from the
 * same parts `npm start` composes (stores from infra/definitions.ts, the task registry, the metagraph directory,
 * the learned router), against AWS and Bittensor.
 */
const m = await cloudMarket("api");
if (!m.config.MARKET_ADMIN_TOKEN) throw new Error("MARKET_ADMIN_TOKEN is required in the cloud");
if (!m.gateway) throw new Error("the API needs the gateway hotkey");
export const app = createApp({
  ...m.stores,
  tasks: taskCatalog(m.registry, m.config.MARKET_TASK_PRICES),
  router: marketRouter({
    registry: m.registry,
    directory: m.directory,
    scores: m.stores.scores,
    explore: { share: m.config.MARKET_EXPLORE_SHARE, cap: m.config.MARKET_EXPLORE_CAP },
  }),
  shadowAnswers: m.stores.scores,
  directory: m.directory,
  miners: marketMiners({
    chain: m.chain,
    netuid: m.netuid,
    store: m.store,
    registry: m.registry,
    // The API only reads: the validator builds and publishes the directory from the chain's commitments.
    chainDirectory: { decision: () => null },
    directory: m.directory,
    ledger: m.stores.ledger,
    scores: m.stores.scores,
    // No onnxruntime in Lambda: the graph's declared tensors are checked; the worker loads the model before serving.
    checkModel: async (bytes, contract) => checkOnnxGraphContract(bytes, contract),
    maxModelBytes: m.config.MARKET_MODEL_MAX_BYTES,
    uploads: m.uploads,
  }),
  dashboard: marketDashboardSource({
    chain: m.chain,
    netuid: m.netuid,
    scores: m.stores.scores,
    manifests: m.manifests,
  }),
  gatewaySigner: m.gateway,
  verifier: sr25519Verifier,
  workerKeys: m.config.MARKET_WORKER_KEYS,
  clock: systemClock,
  logger: m.log.child("api"),
  config: apiSettings(m.config, m.config.MARKET_ADMIN_TOKEN),
});
// Settles (polls, sync waits, cancels) start ledger rollups in the background: they end before the container freezes.
export const handler = drainingHandler(handle(app), m.stores.ledger);
