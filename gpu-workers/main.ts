// Process entry of a GPU worker: `node --import tsx gpu-workers/main.ts`. Endpoints, region and credentials come
// from the standard AWS SDK settings (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, ...); everything
// else from WORKER_* variables (config.ts). Logs JSON lines to stdout. SIGTERM/SIGINT: stop receiving, drain, exit 0.
// WORKER_EXIT_ON_STDIN_EOF=true (set by the local stack's supervisor, which holds the other end of stdin): the end of
// stdin means the supervisor is gone, and is treated like SIGTERM, so a worker never outlives the market.
import { readFileSync } from "node:fs";
import { z } from "zod";
import {
  createDynamoClient,
  createDynamoDocumentClient,
  createSqsClient,
  createSqsPollClient,
} from "../adapters/aws/clients.ts";
import { sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { createLogger } from "../adapters/log/logger.ts";
import { ModelCache } from "../adapters/model-store/cache.ts";
import { modelStoreFromEnv } from "../adapters/model-store/from-env.ts";
import { SQS_COALESCE_MS, SQS_DELETE_WINDOW_MS } from "../adapters/queue/coalescer.ts";
import { SqsJobQueue } from "../adapters/queue/sqs.ts";
import { DynamoJobStore } from "../adapters/tables/jobs.ts";
import { DynamoRequestStore } from "../adapters/tables/requests.ts";
import { JOBS_TABLE, physicalName } from "../infra/definitions.ts";
import { parseWorkerConfig, WorkerConfigError } from "./config.ts";
import { exitThrough } from "./exit.ts";
import { workerRuntime } from "./runtime.ts";
import { storeManifests } from "./store-experts.ts";
import { startWorker } from "./worker.ts";

/**
 * Ends the experts' inference thread before the process exits (gpu-workers/runtime.ts): exiting while it runs a
 * model would abort the process. Set once the runtime exists.
 */
let closeRuntime: () => Promise<boolean> = async () => true;
let exitLog: (msg: string, fields: Record<string, unknown>) => void = (msg, fields) =>
  createLogger({ component: "gpu-worker" }).error(msg, fields);

/** Every exit of this process goes through here (exit.ts): the first one decides the code. */
const leaveWith = exitThrough({
  close: () => closeRuntime(),
  exit: (code) => process.exit(code),
  // The one exit that does not wait for a model call that never returns (a normal exit would, then abort).
  kill: () => process.kill(process.pid, "SIGKILL"),
  log: (msg, fields) => exitLog(msg, fields),
});
function leave(code: number): void {
  void leaveWith(code);
}

/** Set once the supervisor's end of stdin closes; until the worker is up, that alone ends the process. */
let onParentGone: () => void = () => leave(0);

async function main(): Promise<number> {
  const boot = createLogger({ component: "gpu-worker" });
  // Node's own exit on an uncaught exception would not wait for the inference thread (and then abort): it leaves
  // through `leave` like every other exit. Only the first is logged: once the supervisor is gone, writing to its
  // pipe fails (EPIPE) as an uncaught error, and logging each would raise the next, a loop that starved the exit.
  let uncaught = false;
  process.on("uncaughtException", (error) => {
    if (uncaught) return;
    uncaught = true;
    boot.error("uncaught exception; stopping", { error });
    leave(1);
  });
  const exitOnStdinEof = z
    .enum(["true", "false", "1", "0", ""])
    .optional()
    .transform((v) => v === "true" || v === "1")
    .safeParse(process.env.WORKER_EXIT_ON_STDIN_EOF);
  if (!exitOnStdinEof.success) {
    boot.error("bad configuration", { problems: ["WORKER_EXIT_ON_STDIN_EOF: must be true or false"] });
    return 2;
  }
  if (exitOnStdinEof.data) {
    let gone = false;
    const parentGone = () => {
      if (gone) return;
      gone = true;
      onParentGone();
    };
    process.stdin.on("end", parentGone);
    process.stdin.on("close", parentGone);
    process.stdin.on("error", parentGone);
    process.stdin.resume();
  }
  // A signal while the experts are still loading: nothing is in flight yet, so the worker just leaves (quietly
  // dying of the default action would leave no trace in the log).
  const beforeStart = (signal: NodeJS.Signals) => {
    boot.info("stopping before the worker started: nothing in flight", { signal });
    leave(0);
  };
  process.on("SIGTERM", beforeStart);
  process.on("SIGINT", beforeStart);
  let config: ReturnType<typeof parseWorkerConfig>;
  try {
    config = parseWorkerConfig(process.env, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    boot.error("bad configuration", { problems: error instanceof WorkerConfigError ? error.problems : String(error) });
    return 2;
  }
  const logger = createLogger({ component: "gpu-worker", level: config.logLevel });
  const sqs = createSqsClient();
  const pollSqs = createSqsPollClient();
  const doc = createDynamoDocumentClient(createDynamoClient());
  const queue = new SqsJobQueue({
    sqs,
    pollSqs,
    queueName: physicalName(config.resourcePrefix, config.queueName),
    deadLetterQueueName: physicalName(config.resourcePrefix, config.deadLetterQueueName),
    coalesceMs: SQS_COALESCE_MS,
    // The handler does not wait for its delete (job-handler.ts `acknowledge`): deletes wait for company.
    deleteWindowMs: SQS_DELETE_WINDOW_MS,
  });
  // The validator's jobs, taken after paid ones within their own few slots (issue 17).
  const validationQueue = new SqsJobQueue({
    sqs,
    pollSqs,
    queueName: physicalName(config.resourcePrefix, config.validationQueueName),
    deadLetterQueueName: physicalName(config.resourcePrefix, config.validationDeadLetterQueueName),
    coalesceMs: SQS_COALESCE_MS,
    deleteWindowMs: SQS_DELETE_WINDOW_MS,
  });
  // Send only: the settler (not the worker) touches the ledger.
  const settleQueue = new SqsJobQueue({
    sqs,
    queueName: physicalName(config.resourcePrefix, config.settleQueueName),
    coalesceMs: SQS_COALESCE_MS,
    // One notice per request per worker already (settle-notices.ts): sends wait for no window, only for a batch in
    // flight (notices are idempotent, so equal ones still merge).
    sendWindowMs: 0,
    dedupeSends: true,
  });
  const jobs = new DynamoJobStore({ doc, tableName: physicalName(config.resourcePrefix, JOBS_TABLE.name) });
  // Paid requests live in the same table (REQ# items): the worker checks a paid job against its request.
  const requests = new DynamoRequestStore(doc, physicalName(config.resourcePrefix, JOBS_TABLE.name));
  const { runtime, where, close } = workerRuntime(config, (msg) => logger.info(msg));
  closeRuntime = () => close();
  exitLog = (msg, fields) => logger.error(msg, { ...fields, inference: where });

  // In the cloud the experts are the model store's directory (MARKET_MODEL_BUCKET): nothing is baked into the image.
  const store = modelStoreFromEnv(process.env);
  const manifests = store
    ? storeManifests(store, new ModelCache(store, config.modelCacheDir), logger.child("experts"))
    : undefined;
  logger.info("experts from", { source: store ? store.location : config.expertsDir });

  process.on("unhandledRejection", (error) => logger.error("unhandled rejection", { error }));
  const worker = await startWorker(config, {
    queue,
    validationQueue,
    settleQueue,
    jobs,
    requests,
    runtime,
    verifier: sr25519Verifier,
    logger,
    ...(manifests ? { manifests } : {}),
  });
  logger.info("listening", { port: worker.port, workerId: worker.workerId, inference: where });

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals | "stdin closed") => {
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
          pollSqs.destroy();
          doc.destroy();
          resolve(drained ? 0 : 1);
        },
        (error: unknown) => {
          logger.error("stop failed", { error });
          resolve(1);
        },
      );
    };
    process.off("SIGTERM", beforeStart);
    process.off("SIGINT", beforeStart);
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    // A supervisor that stops normally sends SIGTERM first and its exit then closes stdin: one stop, not two.
    onParentGone = () => {
      if (signals === 0) onSignal("stdin closed");
    };
  });
}

main().then(
  (code) => leave(code),
  (error: unknown) => {
    createLogger({ component: "gpu-worker" }).error("worker failed to start", { error });
    leave(1);
  },
);
