import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BatchOverride, WORKER_BATCH_DEFAULTS, withOverride } from "../core/batching/config.ts";
import { type BatchRule, BatchRules, batchRuleProblems } from "../core/batching/rules.ts";

/**
 * Per-stage configuration: what differs between `production` and a developer's stage. It is data committed in
 * `deploy/stages/<stage>.json` (or the file named by MARKET_STAGE_CONFIG), so a deploy is reproducible and reviewed.
 * Production fails closed: there is no default subnet (netuid 1 is someone else's subnet on finney), no default
 * validator hotkey and no demo key; a missing value stops `sst deploy` with a message saying what to set and where.
 */
export interface StageConfig {
  readonly stage: string;
  readonly production: boolean;
  /** The subnet this market validates and serves. Required on every stage: never guessed. */
  readonly netuid: number;
  /** WebSocket endpoint of a Bittensor node (finney for production, the public testnet otherwise). */
  readonly chainUrl: string;
  /** The validator's public ss58 hotkey (the API reads its weights; its mnemonic is a secret). */
  readonly validatorHotkey: string;
  /**
   * Public ss58 addresses of the GPU workers' serving keys (the address of the MarketWorkerServingKey secret): the
   * only keys whose signed answers the API, the settler and the validator accept (MARKET_WORKER_KEYS). Required in
   * production and on every stage with GPUs; elsewhere empty by default.
   */
  readonly workerKeys: readonly string[];
  /**
   * The gateway's public ss58 hotkey (the address of the MarketGatewayMnemonic secret), given to the workers
   * (WORKER_GATEWAY_ADDRESS): they run a paid job's first delivery on the query's facts the gateway signed in its
   * messages instead of reading the request (issue 17). Absent, or not that secret's address: workers read every
   * request, as before (a wrong one shows in their `badSignatures`).
   */
  readonly gatewayHotkey?: string;
  /** Per-task price of one expert answer in micro-credits; unset tasks keep the price in core/tasks. */
  readonly prices: Readonly<Record<string, number>>;
  /** Platform share of each captured fee, basis points. */
  readonly platformCutBps: number;
  /** How often the validator asks the chain whether a new epoch is due (EventBridge Scheduler expression). */
  readonly validatorTick: string;
  /** Alarm when no weights were accepted for this many hours (finney tempo: 360 blocks x 12 s = 72 min). */
  readonly missedEpochHours: number;
  /** Where alarms are emailed (an SNS subscription the recipient must confirm); unset: the topic only. */
  readonly alarmEmail: string | undefined;
  readonly logRetentionDays: number;
  readonly gpu: GpuConfig;
}

export interface GpuConfig {
  /** Deploy the GPU workers at all (a stage without them serves no query: useful for API-only work). */
  readonly enabled: boolean;
  readonly instanceType: string;
  /**
   * 0 = scale to zero when idle (a query arriving then waits for a cold start; see the README). Production keeps
   * one task by default: the validator waits 5 minutes for answers, less than a cold start, so an epoch that finds
   * no worker would score every expert 0.
   */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Target of the backlog-per-task scaling policy: visible jobs one task may have waiting. */
  readonly backlogPerTask: number;
  /** The workers' batch settings over their defaults (gpu-workers/config.ts `batch`); unset: the defaults. */
  readonly batch: BatchOverride | undefined;
  /** Some experts' own batch settings (core/batching/rules.ts), checked here as the worker will check them. */
  readonly batchRules: readonly BatchRule[];
}

const PRODUCTION_CHAIN = "wss://entrypoint-finney.opentensor.ai:443";
const TESTNET_CHAIN = "wss://test.finney.opentensor.ai:443";

/** CloudWatch's allowed retentions, by the names SST's `logging.retention` takes. */
export const RETENTION = {
  "1 day": 1,
  "3 days": 3,
  "5 days": 5,
  "1 week": 7,
  "2 weeks": 14,
  "1 month": 30,
  "2 months": 60,
  "3 months": 90,
  "6 months": 180,
  "1 year": 365,
  "2 years": 731,
  "5 years": 1827,
  "10 years": 3653,
} as const;

export function retentionName(days: number): keyof typeof RETENTION {
  const found = (Object.keys(RETENTION) as (keyof typeof RETENTION)[]).find((name) => RETENTION[name] === days);
  if (!found) throw new StageConfigError(`no log retention of ${days} days`);
  return found;
}

/** The fields of a stage file, and of its `gpu` object. */
const STAGE_FIELDS = [
  "netuid",
  "validatorHotkey",
  "workerKeys",
  "gatewayHotkey",
  "chainUrl",
  "prices",
  "platformCutBps",
  "validatorTick",
  "missedEpochHours",
  "alarmEmail",
  "logRetentionDays",
  "gpu",
] as const;
const GPU_FIELDS = [
  "enabled",
  "instanceType",
  "minTasks",
  "maxTasks",
  "backlogPerTask",
  "batch",
  "batchRules",
] as const;

/** Thrown for a stage configuration that must not be deployed; the message names the file and the field. */
export class StageConfigError extends Error {
  override readonly name = "StageConfigError";
}

type Raw = Record<string, unknown>;

function isRecord(value: unknown): value is Raw {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Builds and checks a stage's configuration from its file's parsed JSON (`undefined` when there is no file). */
export function resolveStageConfig(stage: string, raw: unknown, source = `deploy/stages/${stage}.json`): StageConfig {
  const production = stage === "production";
  const fail = (what: string): never => {
    throw new StageConfigError(`stage "${stage}": ${what} (in ${source})`);
  };
  if (raw !== undefined && !isRecord(raw)) fail("the file must hold a JSON object");
  const file: Raw = (raw as Raw | undefined) ?? {};
  // A misspelt field would otherwise be ignored without a word, and its default deployed instead.
  const unknown = (where: string, value: Raw, known: readonly string[]) => {
    const extra = Object.keys(value).find((key) => !known.includes(key));
    if (extra !== undefined) fail(`unknown field "${where}${extra}" (known: ${known.join(", ")})`);
  };
  unknown("", file, STAGE_FIELDS);
  const int = (key: string, value: unknown, min: number, max: number): number => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
      return fail(`"${key}" must be an integer from ${min} to ${max}`);
    return value;
  };
  const str = (key: string, value: unknown, pattern: RegExp, hint: string): string => {
    if (typeof value !== "string" || !pattern.test(value)) return fail(`"${key}" must be ${hint}`);
    return value;
  };

  if (file.netuid === undefined)
    fail(`set "netuid" to the subnet this market validates; refusing to guess (netuid 1 on finney is another subnet)`);
  const netuid = int("netuid", file.netuid, 1, 65535);
  if (file.validatorHotkey === undefined) fail(`set "validatorHotkey" to the validator's ss58 address`);
  const SS58 = /^[1-9A-HJ-NP-Za-km-z]{46,50}$/;
  const validatorHotkey = str("validatorHotkey", file.validatorHotkey, SS58, "an ss58 address");
  const chainUrl = str(
    "chainUrl",
    file.chainUrl ?? (production ? PRODUCTION_CHAIN : TESTNET_CHAIN),
    /^wss?:\/\/\S+$/,
    "a ws:// or wss:// URL",
  );
  if (production && !chainUrl.startsWith("wss://")) fail(`"chainUrl" must use wss:// in production`);

  const prices: Record<string, number> = {};
  if (file.prices !== undefined) {
    if (!isRecord(file.prices)) fail(`"prices" must map task ids to micro-credits`);
    for (const [task, price] of Object.entries(file.prices as Raw))
      prices[task] = int(`prices.${task}`, price, 1, 1e12);
  }

  const gpuRaw = file.gpu === undefined ? {} : isRecord(file.gpu) ? file.gpu : fail(`"gpu" must be an object`);
  unknown("gpu.", gpuRaw, GPU_FIELDS);
  const enabled = gpuRaw.enabled ?? production;
  if (typeof enabled !== "boolean") fail(`"gpu.enabled" must be true or false`);
  const minTasks = int("gpu.minTasks", gpuRaw.minTasks ?? (production ? 1 : 0), 0, 100);
  const maxTasks = int("gpu.maxTasks", gpuRaw.maxTasks ?? (production ? 4 : 1), 1, 100);
  if (minTasks > maxTasks) fail(`"gpu.minTasks" must not exceed "gpu.maxTasks"`);
  const gpu: GpuConfig = {
    enabled: enabled as boolean,
    instanceType: str(
      "gpu.instanceType",
      gpuRaw.instanceType ?? "g4dn.xlarge",
      /^[a-z0-9]+\.[a-z0-9]+$/,
      "an EC2 type",
    ),
    minTasks,
    maxTasks,
    backlogPerTask: int("gpu.backlogPerTask", gpuRaw.backlogPerTask ?? 200, 1, 100_000),
    ...workerBatch(gpuRaw, fail),
  };

  // The serving keys whose answers count: without them a stage with workers would answer nothing (every answer
  // rejected as unsigned by a trusted key), so production and every stage with GPUs fail closed.
  const needKeys = production || gpu.enabled;
  if (needKeys && file.workerKeys === undefined)
    fail(`set "workerKeys" to the ss58 address(es) of the workers' serving key (the MarketWorkerServingKey secret)`);
  const keysRaw = file.workerKeys ?? [];
  if (!Array.isArray(keysRaw) || keysRaw.length > 100) fail(`"workerKeys" must be a list of ss58 addresses`);
  const workerKeys = [
    ...new Set((keysRaw as unknown[]).map((k, i) => str(`workerKeys[${i}]`, k, SS58, "an ss58 address"))),
  ];
  if (needKeys && workerKeys.length === 0) fail(`"workerKeys" must name at least one serving key`);

  const retention = (value: unknown): number => {
    if (typeof value !== "number" || !(Object.values(RETENTION) as unknown[]).includes(value))
      return fail(`"logRetentionDays" must be one of ${Object.values(RETENTION).join(", ")}`);
    return value;
  };
  const gatewayHotkey =
    file.gatewayHotkey === undefined ? undefined : str("gatewayHotkey", file.gatewayHotkey, SS58, "an ss58 address");
  const alarmEmail =
    file.alarmEmail === undefined ? undefined : str("alarmEmail", file.alarmEmail, /^[^@\s]+@[^@\s]+$/, "an email");
  return {
    stage,
    production,
    netuid,
    chainUrl,
    validatorHotkey,
    workerKeys,
    ...(gatewayHotkey ? { gatewayHotkey } : {}),
    prices,
    platformCutBps: int("platformCutBps", file.platformCutBps ?? 1000, 0, 10_000),
    validatorTick: str(
      "validatorTick",
      file.validatorTick ?? "rate(2 minutes)",
      /^(rate|cron)\(.+\)$/,
      "rate(...) or cron(...)",
    ),
    missedEpochHours: int("missedEpochHours", file.missedEpochHours ?? 3, 1, 24),
    alarmEmail,
    logRetentionDays: retention(file.logRetentionDays ?? (production ? 90 : 14)),
    gpu,
  };
}

/**
 * `gpu.batch` and `gpu.batchRules`, checked at deploy time exactly as a worker checks them when it starts: a rule
 * that no worker would accept must stop `sst deploy`, not leave GPU tasks failing to start.
 */
function workerBatch(gpuRaw: Raw, fail: (what: string) => never): Pick<GpuConfig, "batch" | "batchRules"> {
  const issues = (error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }) =>
    error.issues.map((i) => `${i.path.map(String).join(".") || "(value)"}: ${i.message}`).join("; ");
  const batch = gpuRaw.batch === undefined ? undefined : BatchOverride.safeParse(gpuRaw.batch);
  if (batch && !batch.success) fail(`"gpu.batch": ${issues(batch.error)}`);
  const base = withOverride(WORKER_BATCH_DEFAULTS, batch?.data ?? {});
  if (!base.success) return fail(`"gpu.batch": ${issues(base.error)}`);
  const rules = BatchRules.safeParse(gpuRaw.batchRules ?? []);
  if (!rules.success) return fail(`"gpu.batchRules": ${issues(rules.error)}`);
  const problems = batchRuleProblems(base.data, rules.data);
  if (problems.length > 0) fail(problems.map((problem) => `gpu.${problem}`).join("; "));
  return { batch: batch?.data, batchRules: rules.data };
}

/** The file a stage is configured from: MARKET_STAGE_CONFIG when set, else deploy/stages/<stage>.json. */
export function stageConfigPath(stage: string, env: Readonly<Record<string, string | undefined>> = process.env) {
  return env.MARKET_STAGE_CONFIG ?? join(process.cwd(), "deploy", "stages", `${stage}.json`);
}

export function loadStageConfig(stage: string): StageConfig {
  const path = stageConfigPath(stage);
  let raw: unknown;
  if (existsSync(path)) {
    try {
      raw = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw new StageConfigError(`stage "${stage}": ${path} is not valid JSON (${String(error)})`);
    }
  }
  return resolveStageConfig(stage, raw, path);
}

export const stage = loadStageConfig($app.stage);
