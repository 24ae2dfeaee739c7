/**
 * Typed client of the inference API, on openapi-fetch and the types generated from the API's own /openapi.json
 * (client/openapi-types.ts, `npm run gen:client`). It imports nothing of the server, so it can be published alone.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./openapi-types.ts";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Job = Schemas["Job"];
export type Key = Schemas["Key"];
/**
 * A query told apart by `status`: a succeeded one carries its output, experts, cost and receipt (the server's
 * schema documents them as present exactly then), any other state may lack them.
 */
export type Query =
  | (Job & {
      status: "succeeded";
      output: unknown;
      experts: Schemas["AnsweringExpert"][];
      cost: number;
      receipt: Schemas["Receipt"];
    })
  | (Job & { status: Exclude<Job["status"], "succeeded"> });

export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly data: T; readonly requestId: string | null }
  | { readonly ok: false; readonly status: number; readonly problem: Problem; readonly requestId: string | null };

/** A page of a cursor-paged list (`GET /v1/jobs`, `GET /v1/keys`); `nextCursor` is null on the last page. */
export interface Page<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
}

export interface ClientOptions {
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly adminToken?: string;
  /** Injected for in-process use (`app.request`) and tests. */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
}

export interface InferOptions {
  /** Seconds to wait synchronously; 0 = `Prefer: respond-async`. Server default (25 s) when omitted. */
  readonly waitSeconds?: number;
  readonly idempotencyKey?: string;
  readonly k?: number;
}

export interface ListOptions {
  readonly limit?: number;
  readonly cursor?: string;
}

export interface KeyListOptions extends ListOptions {
  /** One account's keys (else every key). */
  readonly accountId?: string;
}

type Auth = "key" | "admin" | "none";
type Fetched = { data?: unknown; error?: unknown; response: Response };

export function createMarketClient(options: ClientOptions) {
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const api = createClient<paths>({
    baseUrl,
    // Our fetch seam takes (url, init) with plain headers, as `app.request` and the Lambda test adapter do;
    // openapi-fetch hands over a Request.
    fetch: async (request: Request) => {
      const body = request.body ? await request.text() : undefined;
      const plain: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        plain[name] = value;
      });
      return doFetch(request.url, {
        method: request.method,
        headers: plain,
        ...(body !== undefined ? { body } : {}),
      });
    },
  });

  function headers(auth: Auth, extra: Record<string, string | undefined> = {}): Record<string, string> {
    const h: Record<string, string> = { accept: "application/json" };
    const secret = auth === "key" ? options.apiKey : auth === "admin" ? options.adminToken : undefined;
    if (secret) h.authorization = `Bearer ${secret}`;
    for (const [name, value] of Object.entries(extra)) if (value !== undefined) h[name] = value;
    return h;
  }

  /** One shape for every outcome: the parsed body on 2xx, the problem+json otherwise. */
  async function settle<T>(call: Promise<Fetched>): Promise<ApiResult<T>> {
    const { data, error, response } = await call;
    const requestId = response.headers.get("x-request-id");
    if (response.ok && data !== undefined) return { ok: true, status: response.status, data: data as T, requestId };
    return { ok: false, status: response.status, requestId, problem: asProblem(error, response.status, requestId) };
  }

  const id = (value: string) => ({ path: { id: value } });

  return {
    createKey: (body: Schemas["CreateKey"]) =>
      settle<Schemas["CreatedKey"]>(api.POST("/v1/keys", { body, headers: headers("admin") })),
    getKey: (keyId: string) => settle<Key>(api.GET("/v1/keys/{id}", { params: id(keyId), headers: headers("admin") })),
    revokeKey: (keyId: string) =>
      settle<Key>(api.DELETE("/v1/keys/{id}", { params: id(keyId), headers: headers("admin") })),
    listKeys: (o: KeyListOptions = {}) =>
      settle<Schemas["KeyList"]>(api.GET("/v1/keys", { params: { query: o }, headers: headers("admin") })),
    rotateKey: (keyId: string, graceSeconds?: number) =>
      settle<Schemas["RotatedKey"]>(
        api.POST("/v1/keys/{id}/rotate", {
          params: id(keyId),
          body: graceSeconds === undefined ? {} : { graceSeconds },
          headers: headers("admin"),
        }),
      ),
    topUp: (keyId: string, amount: number, idempotencyKey?: string) =>
      settle<Schemas["TopUpResult"]>(
        api.POST("/v1/keys/{id}/credits", {
          params: id(keyId),
          body: { amount },
          headers: headers("admin", { "idempotency-key": idempotencyKey }),
        }),
      ),
    tasks: () => settle<Schemas["TaskList"]>(api.GET("/v1/tasks", { headers: headers("none") })),
    infer: (task: string, input: unknown, o: InferOptions = {}) =>
      settle<Query>(
        api.POST("/v1/tasks/{task}/infer", {
          params: { path: { task } },
          body: { input, ...(o.k !== undefined ? { k: o.k } : {}) },
          headers: headers("key", {
            prefer:
              o.waitSeconds === undefined ? undefined : o.waitSeconds === 0 ? "respond-async" : `wait=${o.waitSeconds}`,
            "idempotency-key": o.idempotencyKey,
          }),
        }),
      ),
    job: (jobId: string) => settle<Query>(api.GET("/v1/jobs/{id}", { params: id(jobId), headers: headers("key") })),
    cancel: (jobId: string) =>
      settle<Job>(api.POST("/v1/jobs/{id}/cancel", { params: id(jobId), headers: headers("key") })),
    listJobs: (o: ListOptions = {}) =>
      settle<Schemas["JobList"]>(api.GET("/v1/jobs", { params: { query: o }, headers: headers("key") })),
    usage: () => settle<Schemas["Usage"]>(api.GET("/v1/usage", { headers: headers("key") })),
    experts: () => settle<Schemas["ExpertList"]>(api.GET("/v1/experts", { headers: headers("none") })),
    earnings: (uid: number) =>
      settle<Schemas["ExpertEarnings"]>(
        api.GET("/v1/experts/{uid}/earnings", { params: { path: { uid: String(uid) } }, headers: headers("none") }),
      ),
    metagraph: () => settle<Schemas["Metagraph"]>(api.GET("/v1/metagraph", { headers: headers("none") })),
    verifyReceipt: (receipt: Schemas["VerifyReceipt"]["receipt"], output?: unknown) =>
      settle<Schemas["VerifyReceiptResult"]>(
        api.POST("/v1/receipts/verify", {
          body: { receipt, ...(output !== undefined ? { output } : {}) },
          headers: headers("none"),
        }),
      ),
  };
}

export type MarketClient = ReturnType<typeof createMarketClient>;

function asProblem(body: unknown, status: number, requestId: string | null): Problem {
  const p = body as Partial<Problem> | null | undefined;
  if (p && typeof p === "object" && typeof p.code === "string" && typeof p.title === "string") {
    return { ...p, status: p.status ?? status, detail: p.detail ?? "", requestId: p.requestId ?? "" } as Problem;
  }
  return {
    type: "about:blank",
    title: "Unexpected response",
    status,
    detail: (typeof body === "string" ? body : JSON.stringify(body ?? null)).slice(0, 300),
    code: "internal",
    requestId: requestId ?? "",
  };
}

/** A client that calls a Hono app in process (no socket). */
export function inProcessClient(
  app: { request: (input: string, init: RequestInit) => Response | Promise<Response> },
  auth: Omit<ClientOptions, "baseUrl" | "fetch">,
) {
  return createMarketClient({
    baseUrl: "http://market.local",
    ...auth,
    fetch: async (input, init) => app.request(input, init),
  });
}
