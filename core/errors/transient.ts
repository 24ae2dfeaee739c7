/**
 * Whether an error is a backing service's passing trouble rather than a fault of ours: the AWS SDK gave up on a
 * timeout (a connection or a socket), a throttle or a 5xx after its own retries, or a socket was reset. The API then
 * tells its client 503 with Retry-After (`busy`), since the same call may well succeed in a moment; a 500 would say
 * the opposite. Duck-typed on the error's name, code and HTTP status, so this needs no SDK.
 */

/** A service refusing for load: the throttles of DynamoDB, SQS and S3 by their error names. */
const THROTTLING_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "SlowDown",
]);

/** A throttle by its error's name (a ledger's grouped write then adds no per-entry writes to that partition). */
export function isThrottling(error: unknown): boolean {
  return error instanceof Error && THROTTLING_NAMES.has(error.name);
}

const TRANSIENT_NAMES = new Set([
  ...THROTTLING_NAMES,
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "LimitExceededException",
  "TransactionConflictException",
  "ServiceUnavailable",
  "InternalServerError",
]);
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** `depth`: how many `cause` links are followed (fetch's "fetch failed" wraps the socket's error). */
export function isTransient(error: unknown, depth = 2): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, code, cause, $metadata } = error as {
    name?: unknown;
    code?: unknown;
    cause?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  if (typeof name === "string" && TRANSIENT_NAMES.has(name)) return true;
  // A batch's entry error (SQS's SendBatchError) names the service's code, not a class.
  if (typeof code === "string" && (TRANSIENT_CODES.has(code) || TRANSIENT_NAMES.has(code))) return true;
  const status = $metadata?.httpStatusCode;
  if (typeof status === "number" && status >= 500 && status <= 599) return true;
  return depth > 0 && isTransient(cause, depth - 1);
}
