import { z } from "@hono/zod-openapi";
import { Problem } from "../functions/api/errors.ts";
import {
  CreatedKey,
  type CreateKeyBody,
  ExpertList,
  InferResult,
  JobList,
  JobView,
  KeyList,
  KeyView,
  Metagraph,
  RotatedKey,
  TaskList,
  TopUpResult,
  UnansweredJob,
  Usage,
  VerifyReceiptResult,
} from "../functions/api/schemas.ts";

/** Typed client of the inference API; every response is parsed with the same zod schemas the server documents. */
export type ApiResult<T> =
  | { readonly ok: true; readonly status: number; readonly data: T; readonly requestId: string | null }
  | { readonly ok: false; readonly status: number; readonly problem: Problem; readonly requestId: string | null };

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

type Auth = "key" | "admin" | "none";

/** What infer answers, told apart by `status`: succeeded (with output and receipt) or any other state. */
const InferOutcome = z.discriminatedUnion("status", [InferResult, UnansweredJob]);

export function createMarketClient(options: ClientOptions) {
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const base = options.baseUrl.replace(/\/+$/, "");

  async function call<S extends z.ZodType>(
    schemas: Partial<Record<number, S>>,
    method: string,
    path: string,
    auth: Auth,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResult<z.infer<S>>> {
    const h: Record<string, string> = { accept: "application/json", ...headers };
    const secret = auth === "key" ? options.apiKey : auth === "admin" ? options.adminToken : undefined;
    if (secret) h.authorization = `Bearer ${secret}`;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: h,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const requestId = res.headers.get("x-request-id");
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const schema = schemas[res.status];
    if (res.ok && schema) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return { ok: true, status: res.status, data: parsed.data, requestId };
    }
    const problem = Problem.safeParse(json);
    return {
      ok: false,
      status: res.status,
      requestId,
      problem: problem.success
        ? problem.data
        : {
            type: "about:blank",
            title: "Unexpected response",
            status: res.status,
            detail: text.slice(0, 300),
            code: "internal",
            requestId: requestId ?? "",
          },
    };
  }

  return {
    createKey: (body: z.input<typeof CreateKeyBody>) => call({ 201: CreatedKey }, "POST", "/v1/keys", "admin", body),
    getKey: (id: string) => call({ 200: KeyView }, "GET", `/v1/keys/${encodeURIComponent(id)}`, "admin"),
    revokeKey: (id: string) => call({ 200: KeyView }, "DELETE", `/v1/keys/${encodeURIComponent(id)}`, "admin"),
    topUp: (id: string, amount: number, idempotencyKey?: string) =>
      call(
        { 200: TopUpResult },
        "POST",
        `/v1/keys/${encodeURIComponent(id)}/credits`,
        "admin",
        { amount },
        idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
      ),
    tasks: () => call({ 200: TaskList }, "GET", "/v1/tasks", "none"),
    infer: (task: string, input: unknown, o: InferOptions = {}) => {
      const headers: Record<string, string> = {};
      if (o.waitSeconds !== undefined) headers.prefer = o.waitSeconds === 0 ? "respond-async" : `wait=${o.waitSeconds}`;
      if (o.idempotencyKey) headers["idempotency-key"] = o.idempotencyKey;
      // 200: a finished query (succeeded: InferResult; failed, canceled, expired: the query object); 202: running.
      return call<typeof InferOutcome>(
        { 200: InferOutcome, 202: InferOutcome },
        "POST",
        `/v1/tasks/${encodeURIComponent(task)}/infer`,
        "key",
        { input, ...(o.k !== undefined ? { k: o.k } : {}) },
        headers,
      );
    },
    jobs: (page: { limit?: number; cursor?: string } = {}) => {
      const q = new URLSearchParams();
      if (page.limit !== undefined) q.set("limit", String(page.limit));
      if (page.cursor !== undefined) q.set("cursor", page.cursor);
      return call({ 200: JobList }, "GET", `/v1/jobs${q.size > 0 ? `?${q}` : ""}`, "key");
    },
    listKeys: (page: { limit?: number; cursor?: string; accountId?: string } = {}) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(page)) if (v !== undefined) q.set(k, String(v));
      return call({ 200: KeyList }, "GET", `/v1/keys${q.size > 0 ? `?${q}` : ""}`, "admin");
    },
    rotateKey: (id: string, graceSeconds?: number) =>
      call(
        { 200: RotatedKey },
        "POST",
        `/v1/keys/${encodeURIComponent(id)}/rotate`,
        "admin",
        graceSeconds === undefined ? {} : { graceSeconds },
      ),
    job: (id: string) => call({ 200: JobView }, "GET", `/v1/jobs/${encodeURIComponent(id)}`, "key"),
    cancel: (id: string) => call({ 200: JobView }, "POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`, "key"),
    usage: () => call({ 200: Usage }, "GET", "/v1/usage", "key"),
    experts: () => call({ 200: ExpertList }, "GET", "/v1/experts", "none"),
    metagraph: () => call({ 200: Metagraph }, "GET", "/v1/metagraph", "none"),
    verifyReceipt: (receipt: unknown, output?: unknown) =>
      call({ 200: VerifyReceiptResult }, "POST", "/v1/receipts/verify", "none", {
        receipt,
        ...(output !== undefined ? { output } : {}),
      }),
  };
}

export type MarketClient = ReturnType<typeof createMarketClient>;

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
