import { z } from "zod";
import { isDemoSecretUri } from "./demo-keys.ts";

/**
 * Every setting of the market, read once from the environment at boot (stacks/, functions/, gpu-workers/).
 * Defaults make `npm start` work on one machine; a bad value stops the process with a message naming the variable.
 * The AWS SDK settings (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, credentials) are the SDK's own:
 * they are read here only to decide whether the local stack must start an emulator.
 */
const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((v) => ["true", "1", "yes", "on"].includes(v));
const url = z.url();

export const MarketConfig = z.object({
  PORT: port.default(8787),
  HOST: z.string().min(1).default("127.0.0.1"),
  MARKET_DATA_DIR: z.string().min(1).default(".data"),
  MARKET_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  MARKET_WORKERS: z.coerce.number().int().min(0).max(64).default(2),
  /** Prefix of every table and queue name, so several stages can share one account. */
  MARKET_RESOURCE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{0,40}$/)
    .default("market-local-"),
  MARKET_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  AWS_REGION: z.string().min(1).default("us-east-1"),
  AWS_ENDPOINT_URL_SQS: url.optional(),
  AWS_ENDPOINT_URL_DYNAMODB: url.optional(),
  /** WebSocket URL of a Bittensor node; when unset the embedded devnet runs. */
  MARKET_CHAIN_URL: z
    .string()
    .regex(/^wss?:\/\//, "must be a ws:// or wss:// URL")
    .optional(),
  MARKET_NETUID: z.coerce.number().int().min(1).max(65535).default(1),
  /**
   * How the market talks to the devnet: `embedded` (method calls in process) or `rpc` (the devnet serves Substrate
   * JSON-RPC on 127.0.0.1:MARKET_DEVNET_RPC_PORT and the market uses the subtensor adapter, as against a node).
   */
  MARKET_CHAIN: z.enum(["embedded", "rpc"]).default("embedded"),
  /** Port of the devnet's JSON-RPC with MARKET_CHAIN=rpc (9944, as a local subtensor node; 0 = any free port). */
  MARKET_DEVNET_RPC_PORT: z.coerce.number().int().min(0).max(65535).default(9944),
  /** Devnet block time. Mainnet is 12 s; the demo runs faster so an epoch passes in seconds. */
  MARKET_BLOCK_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /**
   * Devnet subnet tempo in blocks: 120 x 500 ms = an epoch a minute. Each validator sends experts x items validation
   * jobs an epoch; with three validators a 20 s epoch (tempo 40) outran two cores, their answers timed out behind the
   * backlog and every expert scored on nothing.
   */
  MARKET_TEMPO: z.coerce.number().int().min(2).max(50_400).default(120),
  /** Devnet commit-reveal mode of the demo subnet. */
  MARKET_COMMIT_REVEAL: z.enum(["off", "timelock"]).default("off"),
  /** Hidden validation items per task per epoch. */
  MARKET_VALIDATION_ITEMS: z.coerce.number().int().min(4).max(5000).default(64),
  MARKET_VALIDATOR_ENABLED: bool.default(true),
  /**
   * Validators the devnet demo runs (each its own hotkey, coldkey and stake, scoring on its own hidden items); the
   * last ones play the adversaries of MARKET_ADVERSARIES. Against a real chain only the configured validator runs.
   */
  MARKET_VALIDATORS: z.coerce.number().int().min(1).max(16).default(3),
  /**
   * Dishonest validators to demonstrate Yuma Consensus against (devnet only), comma-separated: `copier` (sets the
   * consensus it reads from the weights on chain), `cabal:<uid>` (all its weight on one expert), `lazy` (scores once,
   * then resends those stale weights). They take the last MARKET_VALIDATORS slots; at least one validator stays honest.
   */
  MARKET_ADVERSARIES: z
    .string()
    .max(200)
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .pipe(z.array(z.string().regex(/^(copier|lazy|cabal:\d{1,5})$/, "copier, lazy or cabal:<uid>")).max(15)),
  /** Synchronous wait of an infer call by default (`Prefer: wait=N` asks for another, up to the maximum). */
  MARKET_WAIT_SECONDS: z.coerce.number().int().min(0).max(120).default(25),
  MARKET_MAX_WAIT_SECONDS: z.coerce.number().int().min(0).max(900).default(60),
  /** How long experts have to answer a paid query before its jobs expire and the hold is released. */
  MARKET_JOB_DEADLINE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Largest model a miner may upload (POST /v1/models), checked before the body is read. */
  MARKET_MODEL_MAX_BYTES: z.coerce.number().int().min(1024).max(1_000_000_000).default(50_000_000),
  /**
   * Exploration lane (issue 15): the share of paid queries that also go to one newcomer (committed, not yet scored,
   * unknown to the gate, not a copy) as a shadow participant: its answer is signed and recorded, never averaged into
   * the client's result nor charged. 0 turns the lane off.
   */
  MARKET_EXPLORE_SHARE: z.coerce.number().min(0).max(1).default(0.1),
  /** Most shadow answers recorded per newcomer: past it, the newcomer waits for the validator's scores. */
  MARKET_EXPLORE_CAP: z.coerce.number().int().min(0).max(1_000_000).default(500),
  MARKET_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(2_500_000),
  /** `*` or a comma-separated list of allowed origins. */
  MARKET_CORS_ORIGINS: z.string().min(1).default("*"),
  /** Share of each captured query fee kept by the platform, in basis points. */
  MARKET_PLATFORM_CUT_BPS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** Secret URIs (mnemonics) of the validator's and the gateway's hotkeys. Required against a real chain. */
  MARKET_VALIDATOR_MNEMONIC: z.string().min(1).optional(),
  /** The validator's public ss58 hotkey, for parts that read its weights but must not hold its secret (the API). */
  MARKET_VALIDATOR_HOTKEY: z.string().min(40).max(60).optional(),
  MARKET_GATEWAY_MNEMONIC: z.string().min(1).optional(),
  /**
   * Per-task price of one expert answer in micro-credits, as JSON (`{"digits":1500}`): the deployed stage's
   * `prices` (infra/stage.ts). Tasks not listed keep their price in core/tasks.
   */
  MARKET_TASK_PRICES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JSON object" });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string().regex(/^[a-z0-9-]{1,40}$/), z.number().int().min(1).max(1e12)))
    .optional(),
  /**
   * ss58 addresses of the workers' serving keys (comma-separated): the only keys whose signed answers the gateway
   * and the validator accept. Public. `npm start` adds its own workers' keys.
   */
  MARKET_WORKER_KEYS: z
    .string()
    .max(10_000)
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    )
    .pipe(z.array(z.string().min(40).max(60)).max(100)),
});
export type MarketConfig = z.infer<typeof MarketConfig>;

/** Names of settings whose values must never be printed. */
export const SECRET_SETTINGS: ReadonlySet<string> = new Set([
  "MARKET_ADMIN_TOKEN",
  "MARKET_VALIDATOR_MNEMONIC",
  "MARKET_GATEWAY_MNEMONIC",
]);

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses settings from an environment map; throws ConfigError naming each bad variable (never its secret value). */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): MarketConfig {
  const known = Object.fromEntries(
    Object.keys(MarketConfig.shape).map((name) => [name, env[name] === "" ? undefined : env[name]]),
  );
  const parsed = MarketConfig.safeParse(known);
  if (parsed.success) {
    const demo = [...demoKeyProblems(parsed.data), ...validatorCountProblems(parsed.data)];
    if (demo.length > 0) throw new ConfigError(demo);
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? "?");
    const shown = SECRET_SETTINGS.has(name) ? "(secret)" : JSON.stringify(env[name]);
    return `${name}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** Against a real chain (MARKET_CHAIN_URL set) a development or demo key would sign receipts and weights anyone can forge. */
function demoKeyProblems(config: MarketConfig): string[] {
  if (config.MARKET_CHAIN_URL === undefined) return [];
  const named = [
    ["MARKET_GATEWAY_MNEMONIC", config.MARKET_GATEWAY_MNEMONIC],
    ["MARKET_VALIDATOR_MNEMONIC", config.MARKET_VALIDATOR_MNEMONIC],
  ] as const;
  return named.flatMap(([name, uri]) =>
    uri !== undefined && isDemoSecretUri(uri)
      ? [
          `${name}=(secret): a development/demo key (a //derivation of the public dev phrase, or the demo subnet's) ` +
            "is refused with MARKET_CHAIN_URL: set the real hotkey's mnemonic, or unset MARKET_CHAIN_URL for the devnet",
        ]
      : [],
  );
}

/** Adversaries take validator slots, and the primary validator (the one whose weights the API shows) is honest. */
function validatorCountProblems(config: MarketConfig): string[] {
  const adversaries = config.MARKET_ADVERSARIES.length;
  return adversaries < config.MARKET_VALIDATORS
    ? []
    : [
        `MARKET_ADVERSARIES=${JSON.stringify(config.MARKET_ADVERSARIES.join(","))}: ${adversaries} adversaries need ` +
          `MARKET_VALIDATORS of at least ${adversaries + 1} (it is ${config.MARKET_VALIDATORS})`,
      ];
}
