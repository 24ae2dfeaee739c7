/**
 * Whether an error is a backing service's passing trouble rather than a fault of ours: the AWS SDK gave up on a
 * timeout (a connection or a socket), a throttle or a 5xx after its own retries, or a socket was reset. The client is
 * then told 503 with Retry-After (`busy`), since the same call may well succeed in a moment; a 500 would say the
 * opposite. Duck-typed on the error's name, code and HTTP status, so this needs no SDK.
 */
const TRANSIENT_NAMES = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "TransactionConflictException",
  "ServiceUnavailable",
  "InternalServerError",
  "SlowDown",
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

/** What a client is told to wait before retrying a call that met one (seconds). */
export const TRANSIENT_RETRY_SECONDS = 1;
