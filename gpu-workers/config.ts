import { hostname } from "node:os";
import { z } from "zod";
import { BatchOverride, WORKER_BATCH_DEFAULTS, withOverride } from "../core/batching/config.ts";
import { BatchRules, batchRuleIssues } from "../core/batching/rules.ts";
import { ExpertManifest } from "../core/experts/manifest.ts";
import { JOBS_DLQ, JOBS_QUEUE, SETTLE_QUEUE, VALIDATION_DLQ, VALIDATION_QUEUE } from "../infra/definitions.ts";

/**
 * Everything a worker needs besides its adapters. Layers, later ones win: defaults < the JSON file named by
 * WORKER_CONFIG_FILE < the JSON text in WORKER_CONFIG < single WORKER_* variables. `servingKeyUri` is the worker's
 * own secret (its serving key): it is never logged or echoed in an error. No miner's secret is ever read.
 */

export const WorkerConfig = z
  .object({
    workerId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/)
      .default(() => `worker-${hostname()}-${process.pid}`),
    /** Directory of `*.json` ExpertManifest files, polled for hot reload. Ignored when `experts` is given. */
    expertsDir: z.string().min(1).default(".data/experts"),
    /**
     * Where models downloaded from the model store (MARKET_MODEL_BUCKET / MARKET_MODEL_STORE_DIR) are kept, by
     * digest; the container's /data volume by default, so a restarted task does not download them again.
     */
    modelCacheDir: z.string().min(1).default(".data/model-cache"),
    /** A fixed list of experts instead of a directory (no hot reload). */
    experts: z.array(ExpertManifest).optional(),
    /** How often the manifest directory is re-read (ms); 0 turns hot reload off. */
    reloadIntervalMs: z.number().int().min(0).max(3_600_000).default(3000),
    /** Physical names are `${resourcePrefix}${name}` (infra/definitions.ts). */
    resourcePrefix: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{0,40}$/)
      .default("market-local-"),
    queueName: z.string().min(1).max(80).default(JOBS_QUEUE.name),
    deadLetterQueueName: z.string().min(1).max(80).default(JOBS_DLQ.name),
    /** The validator's jobs: taken within their own few slots (validationConcurrency), never ahead of paid jobs. */
    validationQueueName: z.string().min(1).max(80).default(VALIDATION_QUEUE.name),
    validationDeadLetterQueueName: z.string().min(1).max(80).default(VALIDATION_DLQ.name),
    /** Where a paid job's terminal write is announced ({requestId}), so the settler captures it (send only). */
    settleQueueName: z.string().min(1).max(80).default(SETTLE_QUEUE.name),
    /**
     * Every expert's batch settings, each unset one the worker's default (WORKER_BATCH_DEFAULTS: no delay), so that
     * setting one (WORKER_BATCH_MAX) leaves the others as they were.
     */
    batch: BatchOverride.default({}).transform((override, ctx) => {
      const merged = withOverride(WORKER_BATCH_DEFAULTS, override);
      if (merged.success) return merged.data;
      for (const issue of merged.error.issues)
        ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
      return z.NEVER;
    }),
    /**
     * Some experts' own batch settings over `batch` (core/batching/rules.ts; WORKER_BATCH_RULES, a JSON list): e.g.
     * `[{"runner": "silero-vad", "batch": {"maxBatchSize": 8}}, {"task": "digits", "batch": {"maxQueueDelayMs": 1}}]`.
     * The first rule that matches an expert applies; each is checked over `batch` when the worker starts.
     */
    batchRules: BatchRules.default([]),
    /** Messages being worked on at once (received, not yet acked); must exceed maxBatchSize for batches to fill. */
    concurrency: z.number().int().min(1).max(1000).default(64),
    /**
     * Receive loops running side by side, per lane (each asks for up to 10 messages). One by default, with no
     * linger: each receive takes what came during the previous one's round trip, so receives fill as the load rises
     * and a lone query is never held. Against two loops lingering 10 ms (bench/market.ts, k = 2, three alternating
     * runs each): the same at 4 clients (71.5 against 73.3 q/s, within the noise), ~10% more queries a second at 16,
     * and fewer SQS requests per job (0.96-1.04 against 1.05-1.07 at 16 clients; 1.7 against 1.9-2.0 at 4). One loop
     * with a 10 ms linger held the queries that came during it: 15% fewer queries a second at 4 clients.
     */
    pollers: z.number().int().min(1).max(16).default(1),
    /**
     * Validation messages worked on at once while clients' paid jobs are in flight or waiting, on top of
     * `concurrency` (receive loops of their own): small, so an epoch takes a bounded share of the worker while paid
     * jobs never wait behind it, yet never 0, so validation jobs are answered however busy the paid queue is. While
     * no paid job is in flight or waiting, validation may use `concurrency` slots (issue 17).
     */
    validationConcurrency: z.number().int().min(1).max(1000).default(8),
    waitSeconds: z.number().int().min(0).max(20).default(JOBS_QUEUE.receiveWaitSeconds),
    /**
     * A poller's pause after a partial receive (consumer.ts), so that the next one carries more: 0 by default (see
     * `pollers`); worth it with several pollers on a queue whose receives come back nearly full.
     */
    receiveLingerMs: z.number().int().min(0).max(1000).default(0),
    visibilitySeconds: z.number().int().min(1).max(43_200).default(JOBS_QUEUE.visibilityTimeoutSeconds),
    /** Visibility is extended this often while a job runs. */
    heartbeatSeconds: z.number().min(0.1).max(3600).default(10),
    /** Deliveries after which a retryable failure dead-letters the message with its reason (the queue's maxReceiveCount). */
    maxReceives: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(JOBS_QUEUE.deadLetter?.maxReceiveCount ?? 5),
    /** A retryable failure shortens the visibility to base * 2^(receives-1), capped: a quicker, backed-off retry. */
    retryDelaySeconds: z.number().int().min(0).max(900).default(2),
    maxRetryDelaySeconds: z.number().int().min(0).max(43_200).default(60),
    /**
     * A job still running after this stops being heartbeated, so the queue hands it to another worker; a reload
     * stops waiting this long for a dropped expert's running batches (expert-pool.ts).
     */
    maxJobMs: z.number().int().min(100).max(43_200_000).default(300_000),
    /** How long a stop waits for in-flight jobs before giving up on them (their messages return to the queue). */
    drainTimeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
    /**
     * Freshness window of the sender's Epistula signature. Far wider than Epistula's 8 s on purpose: a job waits in
     * the queue (and may be redelivered) before a worker sees it. Replays are harmless here because the job store's
     * first-write-wins transitions make a repeated job a no-op, not a second charge.
     */
    requestMaxAgeMs: z
      .number()
      .int()
      .min(1000)
      .default(15 * 60_000),
    /**
     * ss58 addresses allowed to sign job requests (the validator hotkeys, and the gateway's). Validation jobs must be
     * signed by one of them: with an empty list no validation job runs (a signed paid job is then checked only for
     * a valid signature; paid jobs are vouched for by their job record's input digest).
     */
    trustedSenders: z.array(z.string().min(40).max(60)).default([]),
    /**
     * The gateway's ss58 address: paid jobs' first deliveries run on the query facts it signs in their messages, with
     * no read of the request (signed-queries.ts; "" = every request is read). Answers of a job that carries no request
     * signature are signed for this address ("" = unbound).
     */
    gatewayAddress: z.string().max(60).default(""),
    /**
     * The worker's serving key (secret URI, WORKER_SERVING_KEY_URI): it signs every answer. Absent: the key in
     * `servingKeyFile`, generated there (mode 0600) on first start.
     */
    servingKeyUri: z.string().min(1).max(1000).optional(),
    /** Where the worker keeps its serving key when none is given (its own folder, never the market's data). */
    servingKeyFile: z.string().min(1).default(".data/worker/serving-key.json"),
    metricsHost: z.string().min(1).default("127.0.0.1"),
    /** 0 = a free port, reported in the "listening" log line. */
    metricsPort: z.number().int().min(0).max(65535).default(0),
    /** Try the CUDA execution provider first (CPU is the fallback either way); false forces CPU. */
    preferCuda: z.boolean().default(true),
    /**
     * Threads each expert's ONNX session may use (WORKER_ORT_THREADS; 0 = onnxruntime's default, one per physical
     * core, whose pool threads spin between runs). 1 runs a batch on the worker's own thread: experts and batches
     * already keep the cores busy, and spinning pools cost a CPU host a third of its CPU (issue 17).
     */
    intraOpThreads: z.number().int().min(0).max(256).default(1),
    /**
     * Run the experts in a thread of their own (WORKER_INFERENCE_THREAD; adapters/runtime/threaded-runtime.ts), so a
     * batch never holds up the worker's event loop: onnxruntime-node runs a session on the calling thread, CUDA
     * included. false runs them on the worker's thread.
     */
    inferenceThread: z.boolean().default(true),
    /**
     * When all of a paid query's routed answers are ready here together, send them in its settle notice unstored
     * instead of writing them (WORKER_CARRY_ANSWERS; settle-notices.ts): one DynamoDB write less a query. Needs a
     * settler of this version or later (an earlier one drops such a notice); off for a rollback of the settler.
     */
    carryAnswers: z.boolean().default(true),
    logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  })
  .refine((c) => c.heartbeatSeconds < c.visibilitySeconds, {
    message: "heartbeatSeconds must be below visibilitySeconds",
    path: ["heartbeatSeconds"],
  })
  .superRefine((c, ctx) => {
    for (const { index, path, message } of batchRuleIssues(c.batch, c.batchRules))
      ctx.addIssue({ code: "custom", path: ["batchRules", index, "batch", ...path], message });
  });
export type WorkerConfig = z.infer<typeof WorkerConfig>;
export type WorkerConfigInput = z.input<typeof WorkerConfig>;

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid worker configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const num = (v: string) => (v.trim() === "" ? Number.NaN : Number(v));
const list = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
const sizes = (v: string) => list(v).map(num);
/** On/off words; anything else is passed on as text, which the schema refuses (a typo is not read as "off"). */
const flag = (v: string): boolean | string => {
  const word = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(word)) return true;
  if (["0", "false", "no", "off"].includes(word)) return false;
  return v;
};

/** Single variables -> config paths; values converted here and validated by the schema. */
const ENV_SETTINGS: readonly [string, readonly string[], (v: string) => unknown][] = [
  ["WORKER_ID", ["workerId"], String],
  ["WORKER_EXPERTS_DIR", ["expertsDir"], String],
  ["WORKER_RELOAD_MS", ["reloadIntervalMs"], num],
  ["WORKER_MODEL_CACHE_DIR", ["modelCacheDir"], String],
  ["MARKET_RESOURCE_PREFIX", ["resourcePrefix"], String],
  ["WORKER_QUEUE_NAME", ["queueName"], String],
  ["WORKER_DLQ_NAME", ["deadLetterQueueName"], String],
  ["WORKER_VALIDATION_QUEUE_NAME", ["validationQueueName"], String],
  ["WORKER_VALIDATION_DLQ_NAME", ["validationDeadLetterQueueName"], String],
  ["WORKER_VALIDATION_CONCURRENCY", ["validationConcurrency"], num],
  ["WORKER_SETTLE_QUEUE_NAME", ["settleQueueName"], String],
  ["WORKER_BATCH_MAX", ["batch", "maxBatchSize"], num],
  ["WORKER_BATCH_PREFERRED", ["batch", "preferredBatchSizes"], sizes],
  ["WORKER_BATCH_DELAY_MS", ["batch", "maxQueueDelayMs"], num],
  ["WORKER_BATCH_QUEUE_MAX", ["batch", "maxQueueSize"], num],
  ["WORKER_BATCH_RULES", ["batchRules"], (v) => JSON.parse(v)],
  ["WORKER_CONCURRENCY", ["concurrency"], num],
  ["WORKER_POLLERS", ["pollers"], num],
  ["WORKER_WAIT_SECONDS", ["waitSeconds"], num],
  ["WORKER_RECEIVE_LINGER_MS", ["receiveLingerMs"], num],
  ["WORKER_VISIBILITY_SECONDS", ["visibilitySeconds"], num],
  ["WORKER_HEARTBEAT_SECONDS", ["heartbeatSeconds"], num],
  ["WORKER_MAX_RECEIVES", ["maxReceives"], num],
  ["WORKER_RETRY_DELAY_SECONDS", ["retryDelaySeconds"], num],
  ["WORKER_DRAIN_TIMEOUT_MS", ["drainTimeoutMs"], num],
  ["WORKER_MAX_JOB_MS", ["maxJobMs"], num],
  ["WORKER_TRUSTED_SENDERS", ["trustedSenders"], list],
  ["WORKER_GATEWAY_ADDRESS", ["gatewayAddress"], String],
  ["WORKER_SERVING_KEY_URI", ["servingKeyUri"], String],
  ["WORKER_SERVING_KEY_FILE", ["servingKeyFile"], String],
  ["WORKER_METRICS_HOST", ["metricsHost"], String],
  ["WORKER_METRICS_PORT", ["metricsPort"], num],
  ["WORKER_PREFER_CUDA", ["preferCuda"], flag],
  ["WORKER_ORT_THREADS", ["intraOpThreads"], num],
  ["WORKER_INFERENCE_THREAD", ["inferenceThread"], flag],
  ["WORKER_CARRY_ANSWERS", ["carryAnswers"], flag],
  ["MARKET_LOG_LEVEL", ["logLevel"], String],
];

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const child = node[key];
    const next: Record<string, unknown> = isRecord(child) ? { ...child } : {};
    node[key] = next;
    node = next;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Why a text is not JSON, by position only: the parser's own message quotes the text around the error, and a
 * settings text may hold the serving key's secret URI.
 */
function notJson(error: unknown): string {
  const position = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
  return position === undefined ? "not JSON" : `not JSON (error at character ${position})`;
}

function parseJson(text: string, what: string, problems: string[]): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (isRecord(value)) return value;
    problems.push(`${what}: must be a JSON object`);
  } catch (error) {
    problems.push(`${what}: ${notJson(error)}`);
  }
  return {};
}

/** A later layer over an earlier one; `batch` is merged setting by setting, as single variables merge into it. */
function layer(below: Record<string, unknown>, above: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...below, ...above };
  if (isRecord(below.batch) && isRecord(above.batch)) merged.batch = { ...below.batch, ...above.batch };
  return merged;
}

/**
 * Builds the worker config from the environment. `readFile` reads WORKER_CONFIG_FILE (injected so this stays testable).
 * Throws WorkerConfigError listing each problem by setting name; secret values are never included.
 */
export function parseWorkerConfig(env: Env, readFile: (path: string) => string = () => "{}"): WorkerConfig {
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  const dataDir = env.MARKET_DATA_DIR?.trim() || ".data";
  raw.expertsDir = `${dataDir.replace(/\/+$/, "")}/experts`;
  raw.modelCacheDir = `${dataDir.replace(/\/+$/, "")}/model-cache`;
  raw.servingKeyFile = `${dataDir.replace(/\/+$/, "")}/worker/serving-key.json`;
  const file = env.WORKER_CONFIG_FILE?.trim();
  if (file) {
    let text = "{}";
    try {
      text = readFile(file);
    } catch (error) {
      problems.push(`WORKER_CONFIG_FILE: cannot read (${error instanceof Error ? error.message : String(error)})`);
    }
    raw = layer(raw, parseJson(text, "WORKER_CONFIG_FILE", problems));
  }
  const inline = env.WORKER_CONFIG?.trim();
  if (inline) raw = layer(raw, parseJson(inline, "WORKER_CONFIG", problems));
  for (const [name, path, convert] of ENV_SETTINGS) {
    const value = env[name];
    if (value === undefined || value.trim() === "") continue;
    try {
      setPath(raw, path, convert(value));
    } catch (error) {
      problems.push(`${name}: ${notJson(error)}`);
    }
  }
  // The market's validator hotkey (the variable every part of the market reads) is always a trusted sender, so a
  // worker deployed with the market's settings runs validation jobs without a second list to keep in step.
  const validator = env.MARKET_VALIDATOR_HOTKEY?.trim();
  if (validator) {
    const listed = Array.isArray(raw.trustedSenders) ? (raw.trustedSenders as unknown[]) : [];
    raw.trustedSenders = listed.includes(validator) ? listed : [...listed, validator];
  }
  // Miners keep their own hotkeys (issue 15): a worker given their secrets refuses to start rather than hold them.
  if (env.WORKER_HOTKEY_URIS !== undefined) {
    problems.push("WORKER_HOTKEY_URIS: no longer read; answers are signed by the worker's serving key (remove it)");
  }
  const result = WorkerConfig.safeParse(raw);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.join(".");
      // Issue messages never carry input values in zod 4, but the secret map is named only by its path to be sure.
      problems.push(`${path || "(config)"}: ${path.startsWith("servingKeyUri") ? "invalid (secret)" : issue.message}`);
    }
  }
  throw new WorkerConfigError(problems);
}
