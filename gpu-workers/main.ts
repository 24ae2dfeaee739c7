// Process entry of a GPU worker: `node --import tsx gpu-workers/main.ts`. Endpoints, region and credentials come
// from the standard AWS SDK settings (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, ...); everything
// else from WORKER_* variables (config.ts). Logs JSON lines to stdout. SIGTERM/SIGINT: stop receiving, drain, exit 0.
import { readFileSync } from "node:fs";
import { createDynamoClient, createDynamoDocumentClient, createSqsClient } from "../adapters/aws/clients.ts";
import { sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { createLogger } from "../adapters/log/logger.ts";
import { ModelCache } from "../adapters/model-store/cache.ts";
import { modelStoreFromEnv } from "../adapters/model-store/from-env.ts";
import { SqsJobQueue } from "../adapters/queue/sqs.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { DynamoJobStore } from "../adapters/tables/jobs.ts";
import { JOBS_TABLE, physicalName } from "../infra/definitions.ts";
import { parseWorkerConfig, WorkerConfigError } from "./config.ts";
import { storeManifests } from "./store-experts.ts";
import { startWorker } from "./worker.ts";

async function main(): Promise<number> {
  const boot = createLogger({ component: "gpu-worker" });
  let config: ReturnType<typeof parseWorkerConfig>;
  try {
    config = parseWorkerConfig(process.env, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    boot.error("bad configuration", { problems: error instanceof WorkerConfigError ? error.problems : String(error) });
    return 2;
  }
  const logger = createLogger({ component: "gpu-worker", level: config.logLevel });
  const sqs = createSqsClient();
  const doc = createDynamoDocumentClient(createDynamoClient());
  const queue = new SqsJobQueue({
    sqs,
    queueName: physicalName(config.resourcePrefix, config.queueName),
    deadLetterQueueName: physicalName(config.resourcePrefix, config.deadLetterQueueName),
  });
  // Send only: the settler (not the worker) touches the ledger.
  const settleQueue = new SqsJobQueue({ sqs, queueName: physicalName(config.resourcePrefix, config.settleQueueName) });
  const jobs = new DynamoJobStore({ doc, tableName: physicalName(config.resourcePrefix, JOBS_TABLE.name) });
  const runtime = createOnnxRuntime({ preferCuda: config.preferCuda, log: (msg) => logger.info(msg) });

  // In the cloud the experts are the model store's directory (MARKET_MODEL_BUCKET): nothing is baked into the image.
  const store = modelStoreFromEnv(process.env);
  const manifests = store
    ? storeManifests(store, new ModelCache(store, config.modelCacheDir), logger.child("experts"))
    : undefined;
  logger.info("experts from", { source: store ? store.location : config.expertsDir });

  process.on("unhandledRejection", (error) => logger.error("unhandled rejection", { error }));
  const worker = await startWorker(config, {
    queue,
    settleQueue,
    jobs,
    runtime,
    verifier: sr25519Verifier,
    logger,
    ...(manifests ? { manifests } : {}),
  });
  logger.info("listening", { port: worker.port, workerId: worker.workerId });

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        // A second Ctrl-C means "now": unfinished messages come back after their visibility timeout.
        logger.warn("second signal; exiting without draining", { signal });
        resolve(1);
        return;
      }
      logger.info("stopping: draining in-flight jobs", { signal });
      worker.stop().then(
        ({ drained }) => {
          sqs.destroy();
          doc.destroy();
          resolve(drained ? 0 : 1);
        },
        (error: unknown) => {
          logger.error("stop failed", { error });
          resolve(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    createLogger({ component: "gpu-worker" }).error("worker failed to start", { error });
    process.exit(1);
  },
);
