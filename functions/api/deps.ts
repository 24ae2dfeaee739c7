import type { RateLimit } from "../../core/keys/schema.ts";
import type { JobStore } from "../../core/ports/jobs.ts";
import type { KeyStore } from "../../core/ports/keys.ts";
import type { Ledger } from "../../core/ports/ledger.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";
import type { ModelUploads } from "../../core/ports/model-uploads.ts";
import type { JobQueue } from "../../core/ports/queue.ts";
import type { RateLimitStore } from "../../core/ports/rate-limit.ts";
import type { RequestStore, RoutedExpert } from "../../core/ports/requests.ts";
import type { ScoreStore } from "../../core/ports/scores.ts";
import type { SignatureVerifier, Signer } from "../../core/ports/signer.ts";
import type { SpendStore } from "../../core/ports/spend.ts";
import type { WebhookOutbox } from "../../core/ports/webhooks.ts";
import type { ModelContract } from "../../core/tasks/task.ts";
import type { DashboardSource } from "./dashboard/source.ts";
import type { SettleNotifier } from "./flow/settle-notifier.ts";

/** One task as the API sees it. The lead adapts the core/tasks registry to this narrow view. */
export interface CatalogTask {
  readonly id: string;
  readonly description: string;
  /** JSON Schemas (draft 2020-12, as z.toJSONSchema writes) of what clients send and get back. */
  readonly inputJsonSchema: Record<string, unknown>;
  readonly outputJsonSchema: Record<string, unknown>;
  /** Micro-credits per expert answer. */
  readonly pricePerAnswer: number;
}

export type Validation<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly issues: readonly { readonly path: readonly (string | number)[]; readonly message: string }[];
    };

export interface TaskCatalog {
  list(): readonly CatalogTask[];
  get(taskId: string): CatalogTask | undefined;
  /**
   * Validates a client input and normalises it into the job input the workers get (may decode media). Must not
   * mutate `input`: a job input equal to a number array of the client's input is sent as the client's own text.
   */
  prepare(taskId: string, input: unknown): Promise<Validation<unknown>>;
  /** Validates one expert output against the task's output schema. */
  parseOutput(taskId: string, output: unknown): Validation<unknown>;
  /** Gate-weighted combination of the valid outputs (the gates given are already renormalised to sum to 1). */
  combine(taskId: string, outputs: readonly unknown[], gates: readonly number[]): unknown;
}

/** What the directory knows of one expert (from the metagraph and the validator's latest scores). */
export interface DirectoryExpert {
  readonly uid: number;
  readonly hotkey: string;
  readonly task: string;
  /** Normalised weight in [0,1] (validator's latest), incentive and Shapley value of the last epoch. */
  readonly weight: number;
  readonly incentive: number;
  readonly shapley: number;
  readonly active: boolean;
}

export interface MetagraphView {
  readonly netuid: number;
  readonly block: number;
  readonly experts: readonly DirectoryExpert[];
  readonly validators?: readonly DirectoryValidator[];
}

/**
 * One validator as the chain stores it: stake in rao and dividends as the chain's u16 share (integers, as decimal
 * strings where a u64 could exceed a JSON number's exact range), validator trust as u16, LastUpdate's block.
 */
export interface DirectoryValidator {
  readonly uid: number;
  readonly hotkey: string;
  readonly stake: string;
  readonly validatorPermit: boolean;
  readonly validatorTrust: number;
  readonly dividends: number;
  readonly lastWeightsBlock: number;
}

/** Experts per task; also resolves a uid to its hotkey for GET /v1/experts/{uid}/earnings (kept in the ledger). */
export interface ExpertDirectory {
  experts(task?: string): Promise<readonly DirectoryExpert[]>;
  metagraph(): Promise<MetagraphView>;
  /** The subnet's validators (GET /v1/validators); absent where the directory has no chain. */
  validators?(): Promise<readonly DirectoryValidator[]>;
}

/** Picks the experts that answer one input. Gates sum to 1 over the returned experts. */
export interface Router {
  route(task: string, normalizedInput: unknown, k: number): Promise<RoutedExpert[]>;
  /**
   * Newcomers to add to this paid query beyond the routed experts (the exploration lane): they answer in the shadow,
   * neither averaged into the client's result nor paid by the client. Empty most of the time.
   */
  explore?(task: string, routed: readonly RoutedExpert[]): Promise<RoutedExpert[]>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface ApiLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ApiConfig {
  readonly adminToken: string;
  /** Default synchronous wait of an infer call, seconds (25). `Prefer: wait=N` asks for another, up to max. */
  readonly defaultWaitSeconds: number;
  readonly maxWaitSeconds: number;
  /** How long experts have to answer before the jobs expire and the hold is released, seconds. */
  readonly jobDeadlineSeconds: number;
  readonly bodyLimitBytes: number;
  /** The platform's cut of each captured fee, basis points; the rest is shared among the experts that answered. */
  readonly platformCutBps: number;
  readonly maxK: number;
  readonly defaultK: number;
  /** `mk_live_` or `mk_test_` keys. */
  readonly keyEnvironment: "live" | "test";
  readonly corsOrigins: readonly string[] | "*";
  /** Poll backoff of the sync wait: first and max delay, ms. */
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  /** Failed authentications allowed per client address (in this process) before it is answered 429. */
  readonly authFailureLimit: RateLimit;
  /** How long a bad key hash is answered 401 without a table read, ms. */
  readonly badKeyCacheMs: number;
  /**
   * How long a valid key is used without a table read, ms (key-cache.ts): a revocation made through another API
   * instance takes effect here within this bound. 0: a read per request.
   */
  readonly validKeyCacheMs: number;
  /** Webhooks may call http: and loopback/private hosts (the devnet and the local stack only). */
  readonly webhookAllowLocal: boolean;
  /** Usage says `lowBalance` when the available balance pays for fewer queries than this (dearest task, default k). */
  readonly lowBalanceQueries: number;
  /** How long a rotated key's old secret keeps working by default, seconds. */
  readonly rotationGraceSeconds: number;
}

export const DEFAULT_CONFIG: Omit<ApiConfig, "adminToken"> = {
  defaultWaitSeconds: 25,
  maxWaitSeconds: 60,
  jobDeadlineSeconds: 60,
  bodyLimitBytes: 2_500_000,
  platformCutBps: 1000,
  maxK: 8,
  defaultK: 3,
  keyEnvironment: "live",
  corsOrigins: "*",
  pollInitialMs: 20,
  pollMaxMs: 500,
  authFailureLimit: { perMinute: 60, burst: 30 },
  badKeyCacheMs: 60_000,
  validKeyCacheMs: 5_000,
  webhookAllowLocal: false,
  lowBalanceQueries: 10,
  rotationGraceSeconds: 24 * 3600,
};

/** State of one part of the market (queue, tables, chain, workers, validator...), for GET /health. */
export interface ComponentHealth {
  readonly state: "ok" | "degraded" | "down" | "disabled" | "starting";
  readonly [detail: string]: unknown;
}

export interface HealthReport {
  readonly status: "ok" | "degraded";
  readonly components: Readonly<Record<string, ComponentHealth>>;
}

/** What a miner's model upload and status need; the routes exist only when a market provides this. */
export interface MinerDeps {
  /** Where uploaded models go, by sha256 (a folder locally, S3 in the cloud). */
  readonly store: ModelStore;
  /** The tensors a task's models must have; undefined for a task that takes no uploads. */
  contractOf(task: string): ModelContract | undefined;
  /** Checks a model against the contract: locally by loading it in a throw-away process, in Lambda by its graph. */
  checkModel(bytes: Uint8Array, contract: ModelContract): Promise<{ ok: true } | { ok: false; detail: string }>;
  /** The hotkey's uid on the subnet, or null when it is not registered. */
  uidOf(hotkey: string): Promise<number | null>;
  /** Public status of a miner (GET /v1/miners/{hotkey}); null when the hotkey is not registered. */
  status(hotkey: string): Promise<MinerStatus | null>;
  readonly maxModelBytes: number;
  /**
   * Presigned uploads (the cloud: the API cannot take a model's bytes through Lambda); when set, the API also offers
   * POST /v1/models/uploads and its confirm.
   */
  readonly uploads?: ModelUploads;
}

export interface MinerStatus {
  readonly hotkey: string;
  readonly uid: number;
  readonly coldkey: string;
  /** The latest commitment on chain, as committed. */
  readonly commitment: { task: string; sha256: string; size: number; block: number } | null;
  /** The model the market serves for this uid (sha256), or null. */
  readonly model: string | null;
  readonly served: boolean;
  /** Why not served (or "served"). */
  readonly reason: string;
  readonly shapley: number;
  /** This validator's normalised weight for the uid. */
  readonly weight: number;
  readonly incentive: number;
  /** Emission of the last epoch, in rao. */
  readonly emission: string;
  /** Share of query fees (micro-credits) credited so far. */
  readonly feeBalance: number;
  /**
   * Paid queries answered: `shadow` in the exploration lane while not yet scored (recorded, not paid), `paid` as a
   * routed expert with a fee share (the most recent entries, counted up to 1000).
   */
  readonly answered: { readonly shadow: number; readonly paid: number };
  /** The latest epochs (newest first): this uid's Shapley value, its EMA, and the validator's weight for it. */
  readonly history: readonly MinerEpoch[];
  /** The latest fee shares credited (newest first). */
  readonly feeShares: readonly { readonly requestId: string; readonly amount: number; readonly at: number }[];
  readonly block: number;
}

export interface MinerEpoch {
  readonly epoch: number;
  readonly task: string;
  readonly shapley: number;
  readonly ema: number;
  /** Copy of uid N (merged as a copy: earns nothing), or null. */
  readonly copyOf: number | null;
  /** The validator's normalised weight for this uid in that epoch's submission (0 when none was sent). */
  readonly weight: number;
}

export interface ApiDeps {
  /** Health of the whole market; without it /health only says the API answers. */
  readonly health?: () => Promise<HealthReport>;
  readonly keys: KeyStore;
  /** The per-key request counter shared by every API instance (DynamoDB in the stacks). */
  readonly rateLimits: RateLimitStore;
  readonly ledger: Ledger;
  readonly requests: RequestStore;
  readonly jobs: JobStore;
  readonly queue: JobQueue;
  readonly tasks: TaskCatalog;
  readonly router: Router;
  /** Where the exploration lane's shadow answers are recorded (the scores table); without it they are not kept. */
  readonly shadowAnswers?: Pick<ScoreStore, "recordShadowAnswer">;
  readonly directory: ExpertDirectory;
  /** The market dashboard's data (GET /, /v1/dashboard/*); absent: those routes answer 404. */
  readonly dashboard?: DashboardSource;
  /** Per-key spend counters; without it a key's spendLimit cannot be set (and is not enforced). */
  readonly spend?: SpendStore;
  /** The webhook outbox; without it a query's `webhook` is refused. */
  readonly webhooks?: WebhookOutbox;
  /** Miner onboarding (model upload, miner status); absent: those routes answer 404. */
  readonly miners?: MinerDeps;
  /** The gateway hotkey: signs receipts (job messages go unsigned on the internal queue). */
  readonly gatewaySigner: Signer;
  readonly verifier: SignatureVerifier;
  /** ss58 of the workers' serving keys: an answer signed by any other key is refused. */
  readonly workerKeys: readonly string[];
  readonly clock: Clock;
  readonly config: ApiConfig;
  readonly logger: ApiLogger;
  /**
   * Announcements of the settler running in this process: a waiting query returns when its result is stored
   * instead of polling (and settling in parallel). Absent: the wait polls.
   */
  readonly settled?: SettleNotifier;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
