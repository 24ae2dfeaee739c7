import http from "node:http";
import https from "node:https";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/** Static credentials; what the emulators accept (they check nothing) and what an explicit caller may pass. */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Everything optional: what is not given comes from the standard AWS SDK settings
 * (AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL, AWS_REGION, the credential chain),
 * so any SQS/DynamoDB-compatible server can stand in without code changes.
 */
export interface AwsClientOptions {
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: StaticCredentials;
  /** Total attempts per call, first included (SDK standard retry mode, with jittered backoff). Default 3. */
  readonly maxAttempts?: number;
  /** Socket idle limit per request. Defaults: SQS 30 s (above the 20 s long poll), DynamoDB 10 s. */
  readonly requestTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  /** Keep-alive sockets per host. Default 50. */
  readonly maxSockets?: number;
  /**
   * SQS only: resolve each command class's middleware stack once and reuse it (the SDK's `cacheMiddleware`). Default
   * true: it saves ~0.1 ms of CPU per call here (bench/sqs-client.ts, bench/RESULTS.md, issue 17). Two costs come
   * with it: a middleware added after a command class was sent is not seen by it until `dropHandlerCache`, and a
   * call given options (an abort signal) resolves its stack anew and drops the whole cache, so long polls go through
   * a client without it (`createSqsPollClient`).
   */
  readonly cacheMiddleware?: boolean;
}

/** Dummy credentials for fauxqs/dynalite: they do not check signatures, but the SDK refuses to sign without some. */
export const EMULATOR_CREDENTIALS: StaticCredentials = { accessKeyId: "local", secretAccessKey: "local" };
export const EMULATOR_REGION = "us-east-1";

/** Client options for a local emulator at `endpoint` (explicit region and dummy credentials, nothing read from env). */
export function emulatorClientOptions(endpoint: string): AwsClientOptions {
  return { endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
}

const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_CONNECTION_TIMEOUT_MS = 3_000;
const SQS_REQUEST_TIMEOUT_MS = 30_000;
const DYNAMO_REQUEST_TIMEOUT_MS = 10_000;

/** Fields that must not be set at all when absent, so the SDK falls back to its own provider chain. */
function baseConfig(options: AwsClientOptions, defaultRequestTimeoutMs: number) {
  const maxSockets = options.maxSockets ?? 50;
  return {
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: "standard",
    // Options object form: the SDK builds its NodeHttpHandler from it (no direct dependency on @smithy/*).
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? defaultRequestTimeoutMs,
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
    },
  } as const;
}

/**
 * SQS client. `useQueueUrlAsEndpoint: false` because the SDK otherwise sends each call to the host inside the
 * QueueUrl whenever no explicit `endpoint` is configured (the case with AWS_ENDPOINT_URL_SQS), and fauxqs queue
 * URLs name `sqs.<region>.localhost`, which does not resolve. On AWS the two hosts agree, so nothing is lost.
 */
export function createSqsClient(options: AwsClientOptions = {}): SQSClient {
  return new SQSClient({
    ...baseConfig(options, SQS_REQUEST_TIMEOUT_MS),
    useQueueUrlAsEndpoint: false,
    cacheMiddleware: options.cacheMiddleware ?? true,
  });
}

/**
 * The client for a consumer's long polls (`SqsJobQueueOptions.pollSqs`): they carry an abort signal, so the cache
 * would be dropped at each one; here it is off, and the polls' sockets (each held up to 20 s) are apart from the
 * sends'.
 */
export function createSqsPollClient(options: AwsClientOptions = {}): SQSClient {
  return createSqsClient({ ...options, cacheMiddleware: false });
}

/**
 * For a middleware added to a client that may have sent already (a benchmark's or a test's counter): a client with
 * `cacheMiddleware` keeps each command class's stack as resolved at its first send, so the classes sent before would
 * not see it. This drops that cache, as the SDK's own `destroy()` does, without closing the client's sockets; each
 * class resolves its stack again at its next send. (`handlers` is the SDK's field for it: test/dataplane-queue.test.ts
 * fails if it moves.)
 */
export function dropHandlerCache(client: SQSClient): void {
  delete (client as unknown as { handlers?: unknown }).handlers;
}

/**
 * S3 client (the model store). Path-style addressing when an endpoint override is set (AWS_ENDPOINT_URL_S3 or an
 * explicit endpoint: an emulator such as fauxqs, whose `<bucket>.localhost` hosts do not resolve); virtual-hosted
 * style on AWS itself. Requests get the SQS timeout: a model download is one long read.
 */
export function createS3Client(options: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  const overridden = options.endpoint !== undefined || Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  return new S3Client({ ...baseConfig(options, SQS_REQUEST_TIMEOUT_MS), forcePathStyle: overridden });
}

export function createDynamoClient(options: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(baseConfig(options, DYNAMO_REQUEST_TIMEOUT_MS));
}

/**
 * Document client over a low-level client. `removeUndefinedValues` so optional record fields can be spread in;
 * numbers stay JS numbers (all ours are safe integers or ordinary floats).
 */
export function createDynamoDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}
