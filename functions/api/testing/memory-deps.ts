import { identityReady, signerFromUri, sr25519Verifier } from "../../../adapters/identity/sr25519.ts";
import { MemoryJobQueue } from "../../../adapters/queue/memory.ts";
import { MemoryJobStore } from "../../../adapters/tables/memory-jobs.ts";
import { MemoryKeyStore } from "../../../adapters/tables/memory-keys.ts";
import { MemoryLedger } from "../../../adapters/tables/memory-ledger.ts";
import { MemoryRateLimits } from "../../../adapters/tables/memory-rate-limits.ts";
import { MemoryRequestStore } from "../../../adapters/tables/memory-requests.ts";
import { MemorySpendStore } from "../../../adapters/tables/memory-spend.ts";
import { MemoryWebhookOutbox } from "../../../adapters/tables/memory-webhooks.ts";
import {
  type ApiConfig,
  type ApiDeps,
  type Clock,
  DEFAULT_CONFIG,
  type ExpertDirectory,
  type Router,
  systemClock,
} from "../deps.ts";
import { topKRouter } from "../router.ts";
import { digitsCatalog } from "./digits-catalog.ts";
import { FAKE_WORKER_URI, type FakeExpert, fakeExperts, staticDirectory } from "./fake-experts.ts";

export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export const silentLogger = { info() {}, warn() {}, error() {} };

export interface MemoryKit {
  readonly deps: ApiDeps;
  readonly experts: FakeExpert[];
  readonly queue: MemoryJobQueue;
  readonly jobs: MemoryJobStore;
  readonly ledger: MemoryLedger;
  readonly webhooks: MemoryWebhookOutbox;
}

/** ApiDeps on memory adapters, real sr25519 and the digits stand-in catalog. */
export interface MemoryDepsOptions {
  readonly config?: Partial<ApiConfig>;
  readonly clock?: Clock;
  readonly experts?: number;
  /** Every expert not routed gets a shadow job (the exploration lane, issue 15): everyoneExploresRouter. */
  readonly explore?: boolean;
  readonly deps?: Partial<ApiDeps>;
}

export async function memoryDeps(overrides: MemoryDepsOptions = {}): Promise<MemoryKit> {
  await identityReady();
  const experts = fakeExperts(overrides.experts ?? 3);
  const directory = staticDirectory(experts);
  const queue = new MemoryJobQueue();
  const jobs = new MemoryJobStore();
  const ledger = new MemoryLedger();
  const webhooks = new MemoryWebhookOutbox();
  const deps: ApiDeps = {
    spend: new MemorySpendStore(),
    webhooks,
    keys: new MemoryKeyStore(),
    rateLimits: new MemoryRateLimits(),
    ledger,
    requests: new MemoryRequestStore(),
    jobs,
    queue,
    tasks: digitsCatalog(),
    router: overrides.explore ? everyoneExploresRouter(directory) : topKRouter(directory),
    directory,
    gatewaySigner: signerFromUri("//Gateway"),
    verifier: sr25519Verifier,
    workerKeys: [signerFromUri(FAKE_WORKER_URI).address],
    clock: overrides.clock ?? systemClock,
    config: {
      ...DEFAULT_CONFIG,
      adminToken: TEST_ADMIN_TOKEN,
      pollInitialMs: 2,
      pollMaxMs: 20,
      // Every in-process request comes from the one address "unknown": suites that send many bad credentials on
      // purpose would otherwise meet the per-address failure limit (tested on its own with a low limit).
      authFailureLimit: { perMinute: 1_000_000, burst: 100_000 },
      // Test receivers listen on loopback.
      webhookAllowLocal: true,
      ...overrides.config,
    },
    logger: silentLogger,
    ...overrides.deps,
  };
  return { deps, experts, queue, jobs, ledger, webhooks };
}

/** Routes the top k by weight and sends every other expert of the task a shadow job (the exploration lane). */
export function everyoneExploresRouter(directory: ExpertDirectory): Router {
  const routed = topKRouter(directory);
  return {
    route: (task, input, k) => routed.route(task, input, k),
    explore: async (task, chosen) =>
      (await directory.experts(task))
        .filter((e) => !chosen.some((r) => r.uid === e.uid))
        .map((e) => ({ uid: e.uid, hotkey: e.hotkey, gate: 0 })),
  };
}
