import { join } from "node:path";
import { loadOrCreateServingKey, newMnemonic } from "../../adapters/identity/keyfile.ts";
import { signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import type { Logger } from "../../adapters/log/logger.ts";
import { ModelCache } from "../../adapters/model-store/cache.ts";
import { createOnnxRuntime } from "../../adapters/runtime/onnx-runtime.ts";
import type { MarketConfig } from "../../core/config/schema.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { RequestStore } from "../../core/ports/requests.ts";
import type { WorkerConfigInput } from "../../gpu-workers/config.ts";
import { storeManifests } from "../../gpu-workers/store-experts.ts";
import { type RunningWorker, startWorker } from "../../gpu-workers/worker.ts";
import { type Supervisor, supervise } from "../local/children.ts";
import { workerEnv } from "./worker-env.ts";

export interface WorkersPart {
  readonly mode: "child" | "inprocess" | "none";
  readonly count: number;
  /** Live workers: child processes alive, or in-process workers not stopped. */
  alive(): number;
  /** Child pids (for tests that check nothing is left behind). */
  pids(): number[];
  /** ss58 of each worker's serving key: the keys the gateway and validator trust. Public. */
  readonly servingKeys: readonly string[];
  /** In-process workers (tests read their metrics). */
  readonly inProcess: readonly RunningWorker[];
  stop(): Promise<void>;
}

export interface WorkersOptions {
  readonly config: MarketConfig;
  readonly mode: "child" | "inprocess" | "none";
  readonly count: number;
  readonly expertsDir: string;
  /**
   * Each child worker's own folder is `<workersDir>/<workerId>`: its serving key lives there (mode 0600), created
   * on its first start. In-process workers get a key in memory.
   */
  readonly workersDir: string;
  /** The model store whose directory the workers serve (what the chain says); absent: the manifests in expertsDir. */
  readonly modelStore?: { readonly store: ModelStore; readonly dir: string };
  readonly gatewayAddress: string;
  readonly trustedSenders: readonly string[];
  readonly sqsEndpoint: string | undefined;
  readonly dynamoEndpoint: string | undefined;
  /** Queue and tables are both emulators started by this stack (workers then need no real AWS credentials). */
  readonly emulatedOnly: boolean;
  readonly queue: JobQueue;
  /** The validator's jobs (in-process workers; subprocess workers open it by name, like the paid queue). */
  readonly validationQueue: JobQueue;
  /** Where in-process workers send settle notices (child workers open it by name themselves). */
  readonly settleQueue: JobQueue;
  readonly jobs: JobStore;
  /** Paid requests' records (in-process workers check paid jobs against them; child workers open the table). */
  readonly requests?: Pick<RequestStore, "getMany">;
  readonly log: Logger;
  readonly repoRoot: string;
}

/**
 * The GPU workers. `npm start` runs them as child processes (`gpu-workers/main.ts`, exactly what the container
 * runs) with the emulator endpoints in the standard AWS variables; tests may run them in-process for speed.
 */
export async function startWorkers(options: WorkersOptions): Promise<WorkersPart> {
  if (options.mode === "none" || options.count === 0) {
    return {
      mode: "none",
      count: 0,
      alive: () => 0,
      pids: () => [],
      servingKeys: [],
      inProcess: [],
      stop: async () => {},
    };
  }
  if (options.mode === "inprocess") {
    // On this thread, unlike a worker process's default (WORKER_INFERENCE_THREAD): in-process workers are for tests
    // and benchmarks, and in the local market's bench a thread did not lower a client's p99 while epochs ran (the
    // cores were already taken; bench/RESULTS.md, issue 17).
    const runtime = createOnnxRuntime({ log: (msg) => options.log.info(msg) });
    const workers: RunningWorker[] = [];
    for (let i = 0; i < options.count; i++) {
      const config: WorkerConfigInput = {
        workerId: `worker-${i + 1}`,
        expertsDir: options.expertsDir,
        resourcePrefix: options.config.MARKET_RESOURCE_PREFIX,
        gatewayAddress: options.gatewayAddress,
        trustedSenders: [...options.trustedSenders],
        reloadIntervalMs: 1000,
        waitSeconds: 1,
        preferCuda: false,
      };
      workers.push(
        await startWorker(config, {
          queue: options.queue,
          validationQueue: options.validationQueue,
          settleQueue: options.settleQueue,
          jobs: options.jobs,
          ...(options.requests ? { requests: options.requests } : {}),
          runtime,
          verifier: sr25519Verifier,
          servingKey: signerFromUri(newMnemonic()),
          logger: options.log,
          ...(options.modelStore
            ? {
                manifests: storeManifests(
                  options.modelStore.store,
                  new ModelCache(options.modelStore.store, join(options.workersDir, `worker-${i + 1}`, "model-cache")),
                  options.log,
                ),
              }
            : {}),
        }),
      );
    }
    let stopped = false;
    return {
      mode: "inprocess",
      count: options.count,
      alive: () => (stopped ? 0 : workers.length),
      pids: () => [],
      servingKeys: workers.map((w) => w.servingKey),
      inProcess: workers,
      async stop() {
        stopped = true;
        await Promise.all(workers.map((w) => w.stop()));
      },
    };
  }

  // Each worker's key in its own folder, made here (as the worker would on its first start) so that its public
  // half is known before the API starts; the secret stays in that file, read by the worker alone.
  const keyFiles = Array.from({ length: options.count }, (_, i) =>
    join(options.workersDir, `worker-${i + 1}`, "serving-key.json"),
  );
  const servingKeys = await Promise.all(keyFiles.map(async (file) => (await loadOrCreateServingKey(file)).address));
  // An allow-listed environment: no secret of the market reaches a process that loads miners' models.
  const env = (i: number) =>
    workerEnv({
      parent: process.env,
      workerId: `worker-${i + 1}`,
      region: options.config.AWS_REGION,
      resourcePrefix: options.config.MARKET_RESOURCE_PREFIX,
      logLevel: options.config.MARKET_LOG_LEVEL,
      expertsDir: options.expertsDir,
      servingKeyFile: keyFiles[i] ?? "",
      ...(options.modelStore
        ? {
            modelStore: {
              dir: options.modelStore.dir,
              cacheDir: join(options.workersDir, `worker-${i + 1}`, "model-cache"),
            },
          }
        : {}),
      gatewayAddress: options.gatewayAddress,
      trustedSenders: options.trustedSenders,
      sqsEndpoint: options.sqsEndpoint,
      dynamoEndpoint: options.dynamoEndpoint,
      emulatedOnly: options.emulatedOnly,
    });
  const supervisor: Supervisor = supervise(
    Array.from({ length: options.count }, (_, i) => ({
      name: `worker-${i + 1}`,
      command: process.execPath,
      args: ["--import", "tsx", join(options.repoRoot, "gpu-workers", "main.ts")],
      env: env(i),
      cwd: options.repoRoot,
    })),
    options.log.child("supervisor"),
  );
  return {
    mode: "child",
    count: options.count,
    alive: () => supervisor.pids().length,
    pids: () => supervisor.pids(),
    servingKeys,
    inProcess: [],
    stop: () => supervisor.stop(),
  };
}
