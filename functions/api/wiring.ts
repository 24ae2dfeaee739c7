import { z } from "zod";
import { createDynamoClient, createDynamoDocumentClient, createSqsClient } from "../../adapters/aws/clients.ts";
import { identityReady, signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { SqsJobQueue } from "../../adapters/queue/sqs.ts";
import { DynamoJobStore } from "../../adapters/tables/jobs.ts";
import { DynamoKeyStore } from "../../adapters/tables/keys.ts";
import { DynamoLedger } from "../../adapters/tables/ledger.ts";
import { DynamoRequestStore } from "../../adapters/tables/requests.ts";
import { JOBS_QUEUE, JOBS_TABLE, KEYS_TABLE, LEDGER_TABLE, physicalName } from "../../infra/definitions.ts";
import {
  type ApiDeps,
  type ApiLogger,
  DEFAULT_CONFIG,
  type ExpertDirectory,
  systemClock,
  type TaskCatalog,
} from "./deps.ts";
import { topKRouter } from "./router.ts";

/** Settings read once at boot; anything invalid fails the cold start (closed) rather than serving half-configured. */
export const ApiEnvVars = z.object({
  MARKET_ADMIN_TOKEN: z.string().min(16),
  /** Secret URI (mnemonic or //dev) of the gateway hotkey that signs receipts. */
  MARKET_GATEWAY_URI: z.string().min(1),
  MARKET_PREFIX: z.string().default("market-dev-"),
  MARKET_KEY_ENV: z.enum(["live", "test"]).default("live"),
  MARKET_WAIT_SECONDS: z.coerce.number().int().min(0).max(120).default(DEFAULT_CONFIG.defaultWaitSeconds),
  MARKET_MAX_WAIT_SECONDS: z.coerce.number().int().min(0).max(900).default(DEFAULT_CONFIG.maxWaitSeconds),
  MARKET_JOB_DEADLINE_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_CONFIG.jobDeadlineSeconds),
  MARKET_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_CONFIG.bodyLimitBytes),
  MARKET_PLATFORM_CUT_BPS: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_CONFIG.platformCutBps),
  MARKET_CORS_ORIGINS: z.string().default("*"),
});
export type ApiEnvVars = z.infer<typeof ApiEnvVars>;

/** Production ApiDeps: DynamoDB tables and SQS from the standard AWS SDK settings, names from infra/definitions. */
export async function depsFromEnv(
  env: Record<string, string | undefined>,
  parts: { readonly tasks: TaskCatalog; readonly directory: ExpertDirectory; readonly logger: ApiLogger },
): Promise<ApiDeps> {
  const e = ApiEnvVars.parse(env);
  await identityReady();
  const doc = createDynamoDocumentClient(createDynamoClient());
  const table = (name: string) => physicalName(e.MARKET_PREFIX, name);
  return {
    keys: new DynamoKeyStore(doc, table(KEYS_TABLE.name)),
    ledger: new DynamoLedger({ db: doc, table: table(LEDGER_TABLE.name) }),
    requests: new DynamoRequestStore(doc, table(JOBS_TABLE.name)),
    jobs: new DynamoJobStore({ doc, tableName: table(JOBS_TABLE.name) }),
    queue: new SqsJobQueue({ sqs: createSqsClient(), queueName: physicalName(e.MARKET_PREFIX, JOBS_QUEUE.name) }),
    tasks: parts.tasks,
    router: topKRouter(parts.directory),
    directory: parts.directory,
    gatewaySigner: signerFromUri(e.MARKET_GATEWAY_URI),
    verifier: sr25519Verifier,
    clock: systemClock,
    logger: parts.logger,
    config: {
      ...DEFAULT_CONFIG,
      adminToken: e.MARKET_ADMIN_TOKEN,
      keyEnvironment: e.MARKET_KEY_ENV,
      defaultWaitSeconds: e.MARKET_WAIT_SECONDS,
      maxWaitSeconds: e.MARKET_MAX_WAIT_SECONDS,
      jobDeadlineSeconds: e.MARKET_JOB_DEADLINE_SECONDS,
      bodyLimitBytes: e.MARKET_BODY_LIMIT_BYTES,
      platformCutBps: e.MARKET_PLATFORM_CUT_BPS,
      corsOrigins: e.MARKET_CORS_ORIGINS === "*" ? "*" : e.MARKET_CORS_ORIGINS.split(",").map((o) => o.trim()),
    },
  };
}
