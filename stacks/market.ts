import { join } from "node:path";
import { serve } from "@hono/node-server";
import { identityReady, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import type { Logger } from "../adapters/log/logger.ts";
import { cachedDirectory, publishExperts } from "../adapters/model-store/directory.ts";
import { FolderModelStore } from "../adapters/model-store/folder.ts";
import { childModelChecker } from "../adapters/runtime/contract-check.ts";
import { mediaDecoders } from "../adapters/runtime/decoders.ts";
import { listManifests } from "../adapters/runtime/manifest-store.ts";
import { REPO_ROOT } from "../adapters/runtime/paths.ts";
import { loadValidationSources } from "../adapters/runtime/validation-sources.ts";
import { ensureExperts, expertsDir } from "../cli/experts.ts";
import { readManifestModel } from "../cli/experts-publish.ts";
import type { MarketConfig } from "../core/config/schema.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import { createTaskRegistry } from "../core/tasks/registry.ts";
import { createApp } from "../functions/api/app.ts";
import { type ApiDeps, systemClock } from "../functions/api/deps.ts";
import { inProcessSettleNotifier } from "../functions/api/flow/settle-notifier.ts";
import { apiSettings } from "../functions/api/settings.ts";
import { startWebhookSender } from "../functions/api/webhooks/sender.ts";
import { taskCatalog } from "../functions/market/catalog.ts";
import { chainDirectory, commitDemoModels } from "../functions/market/chain-directory.ts";
import { marketDashboardSource } from "../functions/market/dashboard-source.ts";
import { expertDirectory } from "../functions/market/directory.ts";
import { marketMiners, taskServing } from "../functions/market/miners.ts";
import { marketRouter } from "../functions/market/router.ts";
import { startSettlerLoop } from "../functions/settler/loop.ts";
import { keepAnsweredHolds } from "../functions/settler/settler.ts";
import { epochRunner, type ValidatorRole } from "../functions/validator/adversary.ts";
import type { EpochReport } from "../functions/validator/epoch.ts";
import { seedDigitRouter } from "../functions/validator/seed-router.ts";
import { validatorSettings } from "../functions/validator/settings.ts";
import { validationTasks } from "../functions/validator/tasks.ts";
import { marketRouterTraining } from "../functions/validator/train-router.ts";
import type { ValidatorDeps } from "../functions/validator/types.ts";
import { type ChainPart, startChain } from "./parts/chain.ts";
import { type DataPlane, startDataPlane } from "./parts/data-plane.ts";
import { marketHealth } from "./parts/health.ts";
import { startValidatorLoop, type ValidatorLoop } from "./parts/validator-loop.ts";
import { marketValidators } from "./parts/validators.ts";
import { startWorkers, type WorkersPart } from "./parts/workers.ts";

export interface MarketOptions {
  readonly config: MarketConfig;
  /** Experts, chain state and emulator data; `persistent: false` keeps tables and chain in memory. */
  readonly dataDir: string;
  readonly persistent: boolean;
  readonly adminToken: string;
  readonly workers: "child" | "inprocess" | "none";
  /** `timer`: the validator runs every chain epoch; `manual`: only when `runValidatorEpoch()` is called. */
  readonly validator: "timer" | "manual";
  /** `timer`: the devnet produces blocks on its own; `manual`: tests advance it. */
  readonly blocks: "timer" | "manual";
  readonly log: Logger;
  /** Router-training digits the validator sends each expert once to start the gate (default 384; 0 = none). */
  readonly routerBootstrapItems?: number;
  /** How long experts get to answer a validator epoch's items; by default 60% of an epoch (5-60 s). */
  readonly validatorAnswerTimeoutMs?: number;
  /** Tasks the validators score (default every task with validation data); tests that study consensus keep one. */
  readonly validatorTasks?: readonly string[];
  /** Overrides of API tunables (tests shorten waits and deadlines). */
  readonly api?: Partial<Omit<ApiDeps["config"], "adminToken">>;
  /** The API port, already bound by the caller (stacks/local binds it first, to fail fast); else PORT is bound here. */
  readonly listener?: BoundListener;
}

export interface MarketValidator {
  readonly hotkey: string;
  readonly role: ValidatorRole;
  readonly loop: ValidatorLoop;
}

export interface BoundListener {
  readonly port: number;
  attach(fetch: (request: Request) => Response | Promise<Response>): void;
  close(): Promise<void>;
}

export interface Market {
  readonly url: string;
  readonly port: number;
  readonly adminToken: string;
  readonly dataPlane: DataPlane;
  readonly chain: ChainPart;
  readonly workers: WorkersPart;
  /** The primary validator's loop (honest; its weights are the API's). */
  readonly validator: ValidatorLoop;
  /** Every validator the market runs, the primary first, each with its role (MARKET_VALIDATORS, MARKET_ADVERSARIES). */
  readonly validators: readonly MarketValidator[];
  readonly experts: () => Promise<ExpertManifest[]>;
  runValidatorEpoch(): Promise<EpochReport>;
  stop(): Promise<void>;
}

/**
 * The whole market on one machine: data plane (emulated or real), chain (devnet or Bittensor), experts, API,
 * workers and the validator loop. `stacks/local` runs it with fixed ports and data on disk; `stacks/ephemeral`
 * with random ports in memory for tests and benchmarks. Stopping undoes everything in reverse order.
 */
export async function startMarket(options: MarketOptions): Promise<Market> {
  const { config, log } = options;
  await identityReady();
  // Named, so that a slow stop says which part held it up.
  const stops: [string, () => Promise<void>][] = [];
  const stopAll = async () => {
    for (const [part, stop] of stops.reverse()) {
      const started = Date.now();
      try {
        await stop();
      } catch (error) {
        log.error("stop failed", { part, error });
      }
      log.debug("stopped", { part, ms: Date.now() - started });
    }
    stops.length = 0;
  };
  try {
    const dataPlane = await startDataPlane(config, options.persistent ? options.dataDir : null, log);
    stops.push(["data plane", () => dataPlane.stop()]);
    // Stopped just before the data plane (stops run in reverse): the ledger rollups that settles started in the
    // background finish against live emulators instead of meeting their 503s (the next sweep would redo them).
    stops.push(["ledger rollups", async () => void (await dataPlane.ledger.drain?.())]);

    const dir = expertsDir(options.dataDir);
    const initial = await ensureExperts(options.dataDir, (msg) => log.info(msg));
    const readManifests = async () => (await listManifests(dir)).manifests;
    log.info("experts ready", { count: initial.length, dir });
    // The same content-addressed store and directory a deployed market reads from S3, as a folder: what
    // `npm run market -- experts directory` shows and what `aws s3 sync` would upload. Miners upload into it too.
    const storeDir = join(options.dataDir, "model-store");
    const store = new FolderModelStore(storeDir);
    const published = await publishExperts(store, initial, readManifestModel);
    log.info("experts published to the local model store", { count: published.length, store: store.location });

    const chain = await startChain({
      config,
      dataDir: options.persistent ? options.dataDir : null,
      manifests: initial,
      blocks: options.blocks,
      log,
    });
    stops.push(["chain", () => chain.stop()]);

    const registry = createTaskRegistry(mediaDecoders);
    if (chain.kind === "devnet") {
      // The demo's miners go through the miners' path: each commits its own model with its own (demo) hotkey.
      const committedDemo = await commitDemoModels(chain.chain, chain.netuid, initial, taskServing(registry), store);
      if (committedDemo > 0) log.info("demo miners committed their models on chain", { count: committedDemo });
    }
    // The market serves what the chain says: miners' commitments (plus the operator's own demo experts) become the
    // store's directory, which workers, API and validator all read.
    const committed = chainDirectory({
      chain: chain.chain,
      netuid: chain.netuid,
      store,
      tasks: taskServing(registry),
      base: readManifests,
      readBaseModel: readManifestModel,
      log: log.child("directory"),
    });
    await committed.refresh();
    const stopDirectory = committed.start(1000);
    stops.push(["directory builder", stopDirectory]);
    const servedManifests = cachedDirectory(store, 500);
    const directory = expertDirectory({
      chain: chain.chain,
      netuid: chain.netuid,
      scores: dataPlane.scores,
      manifests: servedManifests,
      validatorHotkey: chain.validator.address,
      validatorHotkeys: chain.validators.map((v) => v.address),
      committedAt: (hotkey) => {
        const d = committed.decision(hotkey);
        return d?.decision.served ? d.decision.committedAt : undefined;
      },
    });

    const workers = await startWorkers({
      config,
      mode: options.workers,
      count: config.MARKET_WORKERS,
      expertsDir: dir,
      workersDir: join(options.dataDir, "workers"),
      modelStore: { store, dir: storeDir },
      gatewayAddress: chain.gateway.address,
      trustedSenders: [chain.gateway.address, ...chain.validators.map((v) => v.address)],
      sqsEndpoint: dataPlane.sqsEndpoint,
      dynamoEndpoint: dataPlane.dynamoEndpoint,
      emulatedOnly: dataPlane.emulated.sqs && dataPlane.emulated.dynamo,
      queue: dataPlane.queue,
      validationQueue: dataPlane.validationQueue,
      settleQueue: dataPlane.settleQueue,
      jobs: dataPlane.jobs,
      requests: dataPlane.requests,
      log,
      repoRoot: REPO_ROOT,
    });
    stops.push(["workers", () => workers.stop()]);
    // Answers are accepted only from these serving keys: the configured ones (remote workers) and this stack's own.
    const workerKeys = [...new Set([...config.MARKET_WORKER_KEYS, ...workers.servingKeys])];

    const sources = await loadValidationSources();
    // The gate trained at build time becomes the digit router before the API opens (issue 16).
    const seeded = await seedDigitRouter({
      scores: dataPlane.scores,
      expertsDir: dir,
      registry,
      sources,
      metagraph: () => chain.chain.metagraph(chain.netuid),
      now: Date.now(),
    });
    log.info("digit router", { gate: seeded });
    const blockMs = config.MARKET_BLOCK_MS;
    const epochMs = config.MARKET_TEMPO * blockMs;
    const baseDeps: ValidatorDeps = {
      chain: chain.chain,
      netuid: chain.netuid,
      signer: chain.validator,
      verifier: sr25519Verifier,
      workerKeys,
      queue: dataPlane.validationQueue,
      jobs: dataPlane.jobs,
      scores: dataPlane.scores,
      tasks: validationTasks(registry, {
        digits: sources.digits as never,
        speech: sources.speech as never,
      }).filter((t) => options.validatorTasks?.includes(t.id) ?? true),
      experts: () => directory.scoredExperts(),
      routerTraining: marketRouterTraining(registry, sources, options.routerBootstrapItems),
      log: log.child("validator"),
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      // Answers must be in well before the next epoch, or that epoch's weights would be late.
      config: validatorSettings(
        config,
        options.validatorAnswerTimeoutMs ?? Math.max(5_000, Math.min(60_000, Math.round(epochMs * 0.6))),
      ),
    };
    const validators = marketValidators(chain, config, baseDeps).map((v) => ({
      hotkey: v.deps.signer.address,
      role: v.role,
      loop: startValidatorLoop(v.deps, {
        pollMs: Math.max(250, blockMs * 2),
        enabled: options.validator === "timer" && config.MARKET_VALIDATOR_ENABLED,
        log: v.deps.log,
        runEpoch: epochRunner(v.role),
      }),
    }));
    const validator = validators[0]?.loop;
    if (validator === undefined) throw new Error("the market runs no validator");
    stops.push(["validators", async () => void (await Promise.all(validators.map((v) => v.loop.stop())))]);

    // New manifests (e.g. `npm run market -- experts add`) are registered on the devnet without a restart; the
    // workers pick the model up from the same directory.
    let known = new Set(initial.map((m) => m.hotkey));
    let syncInFlight: Promise<void> | null = null;
    const syncExperts = async () => {
      try {
        const manifests = await readManifests();
        if (manifests.every((m) => known.has(m.hotkey))) return;
        const added = await chain.syncExperts(manifests);
        known = new Set(manifests.map((m) => m.hotkey));
        if (added > 0) log.info("new experts registered on the subnet", { added });
      } catch (error) {
        log.warn("expert sync failed", { error });
      }
    };
    const syncTimer = setInterval(() => {
      if (syncInFlight) return;
      syncInFlight = syncExperts().finally(() => {
        syncInFlight = null;
      });
    }, 2000);
    syncTimer.unref();
    stops.push([
      "expert sync",
      async () => {
        clearInterval(syncTimer);
        await syncInFlight;
      },
    ]);

    const settled = inProcessSettleNotifier();
    const deps: ApiDeps = {
      settled,
      keys: dataPlane.keys,
      rateLimits: dataPlane.rateLimits,
      ledger: dataPlane.ledger,
      requests: dataPlane.requests,
      jobs: dataPlane.jobs,
      queue: dataPlane.queue,
      spend: dataPlane.spend,
      webhooks: dataPlane.webhooks,
      tasks: taskCatalog(registry, config.MARKET_TASK_PRICES),
      router: marketRouter({
        registry,
        directory,
        scores: dataPlane.scores,
        explore: { share: config.MARKET_EXPLORE_SHARE, cap: config.MARKET_EXPLORE_CAP },
      }),
      shadowAnswers: dataPlane.scores,
      directory,
      dashboard: marketDashboardSource({
        chain: chain.chain,
        netuid: chain.netuid,
        scores: dataPlane.scores,
        manifests: servedManifests,
      }),
      miners: marketMiners({
        chain: chain.chain,
        netuid: chain.netuid,
        store,
        registry,
        chainDirectory: committed,
        directory,
        ledger: dataPlane.ledger,
        scores: dataPlane.scores,
        checkModel: childModelChecker(),
        maxModelBytes: config.MARKET_MODEL_MAX_BYTES,
      }),
      gatewaySigner: chain.gateway,
      verifier: sr25519Verifier,
      workerKeys,
      clock: systemClock,
      logger: log.child("api"),
      config: { ...apiSettings(config, options.adminToken), ...options.api, adminToken: options.adminToken },
      health: marketHealth({ dataPlane, chain, workers, validator }),
    };
    // The settler captures each query within seconds of its last answer, polled or not (functions/settler).
    const settler = startSettlerLoop(deps, dataPlane.settleQueue, { onSettled: settled.announce });
    stops.push(["settler", () => settler.stop()]);
    // Webhook messages the settling recorded, sent apart from any request (the cloud sends them from the sweeper).
    const stopWebhooks = startWebhookSender({
      outbox: dataPlane.webhooks,
      keys: dataPlane.keys,
      clock: systemClock,
      logger: log.child("webhooks"),
      policy: { allowLocal: deps.config.webhookAllowLocal },
    });
    stops.push(["webhook sender", stopWebhooks]);
    const beforeRelease = keepAnsweredHolds({ ...dataPlane, logger: deps.logger });
    const sweepTimer = setInterval(() => {
      dataPlane.ledger
        .sweepHolds(Date.now(), { beforeRelease })
        .catch((error: unknown) => log.warn("hold sweep failed", { error }));
    }, 30_000);
    sweepTimer.unref();
    stops.push(["hold sweeper", async () => clearInterval(sweepTimer)]);

    const app = createApp(deps);
    const listener = options.listener;
    if (listener) listener.attach(app.fetch);
    const server = listener
      ? { port: listener.port, close: () => listener.close() }
      : await new Promise<{ port: number; close: () => Promise<void> }>((resolve, reject) => {
          const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) =>
            resolve({
              port: info.port,
              close: () => new Promise<void>((done) => s.close(() => done())),
            }),
          );
          s.once("error", reject);
        });
    stops.push(["api", () => server.close()]);
    const url = `http://${config.HOST}:${server.port}`;

    return {
      url,
      port: server.port,
      adminToken: options.adminToken,
      dataPlane,
      chain,
      workers,
      validator,
      validators,
      experts: readManifests,
      runValidatorEpoch: () => validator.runOnce(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
