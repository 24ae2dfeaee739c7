import type { z } from "@hono/zod-openapi";
import { Problem } from "../functions/api/errors.ts";
import {
  Accepted,
  CreatedKey,
  type CreateKeyBody,
  ExpertList,
  InferResult,
  JobView,
  KeyView,
  Metagraph,
  TaskList,
  TopUpResult,
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
      return call<typeof InferResult | typeof Accepted>(
        { 200: InferResult, 202: Accepted },
        "POST",
        `/v1/tasks/${encodeURIComponent(task)}/infer`,
        "key",
        { input, ...(o.k !== undefined ? { k: o.k } : {}) },
        headers,
      );
    },
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
