import { loadOrCreateServingKey } from "../adapters/identity/keyfile.ts";
import { identityReady, signerFromUri } from "../adapters/identity/sr25519.ts";
import { createLogger, type Logger } from "../adapters/log/logger.ts";
import { type Clock, systemClock } from "../core/batching/clock.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import { settleNoticeText, unstoredNoticeText } from "../core/jobs/settle-notice.ts";
import type { JobStore } from "../core/ports/jobs.ts";
import type { JobQueue } from "../core/ports/queue.ts";
import type { RequestStore } from "../core/ports/requests.ts";
import type { ExpertRuntime } from "../core/ports/runtime.ts";
import type { SignatureVerifier, Signer } from "../core/ports/signer.ts";
import { AnswerSigner } from "./answer-signer.ts";
import { WorkerConfig, type WorkerConfigInput } from "./config.ts";
import { Consumer, type ConsumerLane } from "./consumer.ts";
import { ExpertPool } from "./expert-pool.ts";
import { startStatusServer } from "./http.ts";
import { handleMessage, type SettleNotifier } from "./job-handler.ts";
import { JobReader } from "./job-reader.ts";
import { scanManifestDir } from "./manifests.ts";
import { type MetricsSnapshot, WorkerMetrics } from "./metrics.ts";
import { RequestReader } from "./request-reader.ts";
import { DEFAULT_ANSWER_HOLD_MS, SettleNotices } from "./settle-notices.ts";
import { SignedQueries } from "./signed-queries.ts";

export interface WorkerDeps {
  /** Clients' paid jobs: the worker's first lane (`concurrency` slots). */
  readonly queue: JobQueue;
  /**
   * The validator's jobs: a second lane of `validationConcurrency` slots, so an epoch never queues in front of a
   * client's query (issue 17). Absent: the worker takes only `queue`.
   */
  readonly validationQueue?: JobQueue;
  /** The settle queue: a paid job's terminal write sends its notice there (core/jobs/settle-notice.ts). Absent: none. */
  readonly settleQueue?: Pick<JobQueue, "send">;
  readonly jobs: JobStore;
  /** Paid requests' records: paid jobs are checked against them (one read per receive). Absent: job items only. */
  readonly requests?: Pick<RequestStore, "getMany">;
  readonly runtime: ExpertRuntime;
  readonly verifier: SignatureVerifier;
  /** The worker's serving key; defaults to the config's servingKeyUri, then its servingKeyFile (created if absent). */
  readonly servingKey?: Signer;
  readonly logger?: Logger;
  /** Monotonic clock of the batchers. */
  readonly clock?: Clock;
  /** Wall time, ms since epoch. */
  readonly now?: () => number;
  /**
   * Where the served experts come from instead of the manifest folder: the model store's directory (main.ts, when
   * a store is configured). Called on start and every reloadIntervalMs, like the folder scan.
   */
  readonly manifests?: () => Promise<ExpertManifest[]>;
}

export interface WorkerHealth {
  readonly status: "ok" | "starting" | "draining" | "no_experts";
  readonly workerId: string;
  readonly experts: { id: string; task: string; hotkey: string; provider: string }[];
  readonly inFlight: number;
  readonly provider: "cuda" | "cpu" | "mixed" | "none";
}

export interface RunningWorker {
  readonly workerId: string;
  /** ss58 of the serving key that signs this worker's answers (public). */
  readonly servingKey: string;
  /** Port of the /health and /metrics server. */
  readonly port: number;
  metrics(): MetricsSnapshot & { readonly inFlight: number };
  health(): WorkerHealth;
  /** Re-reads the manifest directory now (also done every reloadIntervalMs). */
  reload(): Promise<void>;
  /** Stops receiving, drains in-flight jobs (up to drainTimeoutMs), closes experts and the status server. */
  stop(): Promise<{ drained: boolean }>;
}

/**
 * Starts a worker in this process: loads the experts, serves /health and /metrics, and consumes the queue.
 * The process entry (main.ts) builds SQS/Dynamo adapters around this; tests pass in-memory or emulator adapters.
 */
export async function startWorker(configInput: WorkerConfigInput, deps: WorkerDeps): Promise<RunningWorker> {
  const config = WorkerConfig.parse(configInput);
  const logger = (deps.logger ?? createLogger({ level: config.logLevel })).child("worker", {
    workerId: config.workerId,
  });
  const clock = deps.clock ?? systemClock;
  const now = deps.now ?? Date.now;
  const metrics = new WorkerMetrics();
  await identityReady();
  const servingKey =
    deps.servingKey ??
    (config.servingKeyUri !== undefined
      ? signerFromUri(config.servingKeyUri)
      : await loadOrCreateServingKey(config.servingKeyFile));
  logger.info("serving key", { address: servingKey.address });
  const pool = new ExpertPool({
    runtime: deps.runtime,
    batch: config.batch,
    batchRules: config.batchRules,
    metrics,
    logger,
    clock,
    // A batch running longer than any job may is hung: a reload replacing its expert stops waiting for it.
    retireWaitMs: config.maxJobMs,
  });
  let state: WorkerHealth["status"] = "starting";
  const settleQueue = deps.settleQueue;
  const settle: SettleNotifier | undefined =
    settleQueue &&
    new SettleNotices(
      (requestId, uids, answers, unstored) => {
        const text = unstored ? unstoredNoticeText(requestId, uids ?? [], answers) : null;
        if (unstored && text === null) return Promise.reject(new Error("unstored answers do not fit one notice"));
        return settleQueue.send(text ?? settleNoticeText(requestId, uids, answers));
      },
      (entries) => deps.jobs.completeMany(entries),
      DEFAULT_ANSWER_HOLD_MS,
      now,
      config.carryAnswers
        ? (requestId, uids, answers) => unstoredNoticeText(requestId, uids, answers) !== null
        : undefined,
    );

  // Each bad file is reported once, not on every poll (a build stamp or a half-written file would flood the log).
  const reported = new Set<string>();
  const readManifests = async (): Promise<ExpertManifest[]> => {
    if (config.experts !== undefined) return config.experts;
    if (deps.manifests !== undefined) return deps.manifests();
    const scan = await scanManifestDir(config.expertsDir);
    for (const problem of scan.problems) {
      const key = `${problem.file}\n${problem.error}`;
      if (reported.has(key)) continue;
      reported.add(key);
      logger.warn("manifest skipped", problem);
    }
    return scan.manifests;
  };
  const reload = async () => {
    try {
      await pool.sync(await readManifests());
    } catch (error) {
      metrics.error("reload_failed");
      logger.error("reading expert manifests failed", {
        from: deps.manifests === undefined ? config.expertsDir : "model store",
        error,
      });
    }
  };
  await reload();

  const answerSigner = new AnswerSigner(servingKey, now);
  const lanes: ConsumerLane[] = [
    { name: "paid", queue: deps.queue, concurrency: config.concurrency, pollers: config.pollers },
  ];
  if (deps.validationQueue !== undefined) {
    lanes.push({
      name: "validation",
      queue: deps.validationQueue,
      concurrency: config.validationConcurrency,
      // While no paid job is in flight or waiting, validation may use the whole budget (an epoch finishes fast).
      concurrencyWhenOthersIdle: config.concurrency,
      pollers: config.pollers,
    });
  }
  const requests = deps.requests ? new RequestReader(deps.requests) : undefined;
  // One for the worker: the k jobs of a query share its signature, verified once.
  const signedQueries = config.gatewayAddress
    ? new SignedQueries(deps.verifier, config.gatewayAddress, config.requestMaxAgeMs, now)
    : undefined;
  const jobReader = new JobReader(deps.jobs);
  // Work the handlers leave running (their messages' deletes): each removes itself when done.
  const inBackground = new Set<Promise<void>>();
  const background = (work: Promise<void>) => {
    const tracked = work.finally(() => inBackground.delete(tracked));
    inBackground.add(tracked);
  };
  const consumer = new Consumer({
    lanes,
    metrics,
    logger,
    waitSeconds: config.waitSeconds,
    receiveLingerMs: config.receiveLingerMs,
    visibilitySeconds: config.visibilitySeconds,
    heartbeatSeconds: config.heartbeatSeconds,
    maxJobMs: config.maxJobMs,
    handle: (message, queue) =>
      handleMessage(message, {
        background,
        config,
        queue,
        jobs: deps.jobs,
        ...(requests ? { requests } : {}),
        ...(signedQueries ? { signedQueries } : {}),
        jobReader,
        ...(settle ? { settle } : {}),
        pool,
        answerSigner,
        verifier: deps.verifier,
        metrics,
        logger,
        clock,
        now,
      }),
  });

  const health = (): WorkerHealth => {
    const experts = pool.list().map((e) => ({
      id: e.manifest.id,
      task: e.manifest.task,
      hotkey: e.manifest.hotkey,
      provider: e.model.provider,
    }));
    const providers = new Set(experts.map((e) => e.provider));
    const provider =
      providers.size === 0 ? "none" : providers.size > 1 ? "mixed" : providers.has("cuda") ? "cuda" : "cpu";
    const status = state === "ok" && experts.length === 0 ? "no_experts" : state;
    return { status, workerId: config.workerId, experts, inFlight: consumer.inFlightCount, provider };
  };
  const snapshot = () => ({ ...metrics.snapshot(), inFlight: consumer.inFlightCount });

  metrics.gauge("market_worker_in_flight", "Messages being handled now", () => consumer.inFlightCount);
  const server = await startStatusServer(config.metricsHost, config.metricsPort, {
    health,
    metrics: snapshot,
    prometheus: async () => ({ contentType: metrics.prometheusContentType, text: await metrics.prometheus() }),
  });
  // One reload at a time, and stop waits for it: a reload still downloading a model after stop would write into a
  // folder its owner is removing.
  let reloading: Promise<void> | null = null;
  const reloadTimer =
    config.experts === undefined && config.reloadIntervalMs > 0
      ? setInterval(() => {
          reloading ??= reload().finally(() => {
            reloading = null;
          });
        }, config.reloadIntervalMs)
      : undefined;
  consumer.start();
  state = "ok";
  logger.info("worker started", {
    port: server.port,
    experts: pool.list().map((e) => e.manifest.id),
    provider: health().provider,
    concurrency: config.concurrency,
    validationConcurrency: deps.validationQueue === undefined ? 0 : config.validationConcurrency,
    batch: config.batch,
    batchRules: config.batchRules.length,
  });

  let stopped: Promise<{ drained: boolean }> | undefined;
  return {
    workerId: config.workerId,
    servingKey: servingKey.address,
    port: server.port,
    metrics: snapshot,
    health,
    reload,
    stop() {
      stopped ??= (async () => {
        state = "draining";
        if (reloadTimer !== undefined) clearInterval(reloadTimer);
        // A reload retiring a hung expert would hold the stop for up to maxJobMs: it waits no longer than a drain.
        pool.limitRetireWaits(config.drainTimeoutMs);
        await reloading;
        const drained = await consumer.stop(config.drainTimeoutMs, () => pool.expedite());
        // The drained jobs' deletes, still gathering into batches (at most SQS_DELETE_WINDOW_MS). Bounded like the
        // drain, which covered them when handlers awaited them: one left behind only brings back a skipped duplicate.
        const backgroundDone = await within(Promise.allSettled(inBackground), config.drainTimeoutMs);
        if (!backgroundDone) logger.warn("stopping with deletes still unanswered", { pending: inBackground.size });
        // The drain already waited for the jobs; a model call that outlived it (or that the jobs gave up on at their
        // deadlines) gets as long again, then is left to the process's exit.
        await pool.close(config.drainTimeoutMs);
        await server.close();
        logger.info("worker stopped", { drained, metrics: metrics.snapshot().counters });
        return { drained };
      })();
      return stopped;
    },
  };
}

/** Whether `work` settled within `ms` (it is not cancelled either way). */
function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void work.finally(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
