import { z } from "@hono/zod-openapi";

/**
 * The one table of API error codes: status and title come from here and nowhere else, so the two directions
 * (code -> status, status -> default code) cannot drift.
 */
export const ERROR_TABLE = {
  invalid_request: { status: 400, title: "Invalid request" },
  unauthorized: { status: 401, title: "Missing or invalid credentials" },
  insufficient_credits: { status: 402, title: "Not enough credits" },
  // After `insufficient_credits`: a bare 402 keeps meaning `insufficient_credits`.
  spend_limit: { status: 402, title: "The key's spend limit (per day or in total) would be crossed; nothing was held" },
  // After `unauthorized`: a bare 401 keeps meaning `unauthorized`.
  bad_signature: { status: 401, title: "The Epistula signature does not verify" },
  forbidden: { status: 403, title: "The key lacks the scope for this route" },
  not_registered: { status: 403, title: "The signing hotkey is not registered on the subnet" },
  not_found: { status: 404, title: "Not found" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Request body too large" },
  // First of the 422s: the IETF Idempotency-Key draft answers a key reused with another body 422.
  idempotency_mismatch: { status: 422, title: "This Idempotency-Key was used with a different request body" },
  balance_limit: { status: 422, title: "The balance would exceed the most an account may hold" },
  model_contract: { status: 422, title: "The model does not load or does not have the task's tensors" },
  unsupported_media_type: { status: 415, title: "Unsupported media type: send Content-Type: application/json" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  unavailable: { status: 503, title: "No expert could answer; nothing was charged" },
  // After `unavailable`: a bare 503 from Hono keeps meaning `unavailable` (the first code of a status).
  ledger_busy: { status: 503, title: "Too many queries in flight on this account; retry later, nothing was charged" },
  // Not "nothing was done": a write may have gone through before its answer was lost (a top-up without an
  // Idempotency-Key). A query is answered busy only before it is sent (flow/submit.ts), so its retry is safe.
  busy: {
    status: 503,
    title: "A service the API depends on was busy or did not answer in time; retry (a query with its Idempotency-Key)",
  },
} as const;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** What a `busy` answer tells its client to wait before retrying (seconds). */
export const BUSY_RETRY_SECONDS = 1;
export type ErrorStatus = (typeof ERROR_TABLE)[ErrorCode]["status"];

export const ERROR_CODES = Object.keys(ERROR_TABLE) as ErrorCode[];

/**
 * Default code of a status (first in table order); used for errors raised by Hono itself (404, 413, 415...).
 * `fallback` when the status is not in the table.
 */
export function codeForStatus(status: number, fallback: ErrorCode = "internal"): ErrorCode {
  return ERROR_CODES.find((c) => ERROR_TABLE[c].status === status) ?? fallback;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: {
      readonly issues?: readonly { path: string; message: string }[];
      readonly retryAfterSeconds?: number;
    } = {},
  ) {
    super(detail);
  }
  get status(): ErrorStatus {
    return ERROR_TABLE[this.code].status;
  }
}

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");
export type Problem = z.infer<typeof Problem>;

/** Where the API serves a human page (or JSON) about a code: a relative URI, resolved against the API's own origin. */
export const PROBLEMS_PATH = "/problems";
export function problemTypePath(code: ErrorCode): string {
  return `${PROBLEMS_PATH}/${code.replaceAll("_", "-")}`;
}
export function codeOfProblemSlug(slug: string): ErrorCode | undefined {
  const code = slug.replaceAll("-", "_");
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : undefined;
}

export function problemBody(
  code: ErrorCode,
  detail: string,
  requestId: string,
  issues?: readonly { path: string; message: string }[],
): Problem {
  const entry = ERROR_TABLE[code];
  return {
    type: problemTypePath(code),
    title: entry.title,
    status: entry.status,
    detail,
    code,
    requestId,
    ...(issues && issues.length > 0 ? { issues: [...issues] } : {}),
  };
}

export function problemResponse(
  code: ErrorCode,
  detail: string,
  requestId: string,
  extra: ApiError["extra"] = {},
): Response {
  const body = problemBody(code, detail, requestId, extra.issues);
  const headers = new Headers({ "content-type": "application/problem+json", "x-request-id": requestId });
  if (extra.retryAfterSeconds !== undefined) headers.set("retry-after", String(extra.retryAfterSeconds));
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/** Responses every route may give, for the OpenAPI document. */
export function problemResponses(...codes: ErrorCode[]) {
  const out: Record<
    number,
    { description: string; content: { "application/problem+json": { schema: typeof Problem } } }
  > = {};
  for (const code of codes) {
    const e = ERROR_TABLE[code];
    // Codes sharing a status share its response; its description names them all.
    const seen = out[e.status]?.description;
    out[e.status] = {
      description: seen ? `${seen}; or ${e.title} (${code})` : `${e.title} (${code})`,
      content: { "application/problem+json": { schema: Problem } },
    };
  }
  return out;
}
