import { Validator } from "@seriousme/openapi-schema-validator";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryJobQueue } from "../../adapters/queue/memory.ts";
import { MemoryJobStore } from "../../adapters/tables/memory-jobs.ts";
import { MemoryRequestStore } from "../../adapters/tables/memory-requests.ts";
import { codeForStatus, ERROR_CODES, ERROR_TABLE } from "./errors.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness, manualClock } from "./testing/harness.ts";

type H = Awaited<ReturnType<typeof harness>>;

/** A k = 1 digit query through `app`, with `prefer`. */
const paidQuery = (app: H["app"], key: string, prefer: string) =>
  app.request("/v1/tasks/digits/infer", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", prefer },
    body: JSON.stringify({ input: digitInput(), k: 1 }),
  });

describe("error envelope", () => {
  let h: H;
  let key = "";
  beforeAll(async () => {
    h = await harness({ config: { bodyLimitBytes: 10_000 } });
    key = (await h.fundedKey(10 * DIGITS_PRICE)).key;
  });
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    h.app.request(path, {
      method: "POST",
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        prefer: "respond-async",
        ...headers,
      },
      body,
    });

  it("gives 400 with the zod path of the bad field", async () => {
    const res = await post("/v1/tasks/digits/infer", JSON.stringify({ input: { pixels: [2] } }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = (await res.json()) as { code: string; issues: { path: string }[] };
    expect(body.code).toBe("invalid_request");
    expect(body.issues.map((i) => i.path)).toContain("input.pixels");
  });

  it("gives 400 for malformed JSON, unknown fields and k over the limit", async () => {
    expect((await post("/v1/tasks/digits/infer", "{nope")).status).toBe(400);
    expect((await post("/v1/tasks/digits/infer", JSON.stringify({ input: digitInput(), extra: 1 }))).status).toBe(400);
    const big = await post("/v1/tasks/digits/infer", JSON.stringify({ input: digitInput(), k: 9 }));
    expect(big.status).toBe(400);
  });

  it("gives 404 for an unknown task and an unknown route, 413 over the body limit", async () => {
    const unknownTask = await post("/v1/tasks/speech/infer", JSON.stringify({ input: {} }));
    expect(unknownTask.status).toBe(404);
    const route = await h.app.request("/v2/nothing");
    expect(route.status).toBe(404);
    expect(((await route.json()) as { code: string }).code).toBe("not_found");
    const huge = await post("/v1/tasks/digits/infer", JSON.stringify({ input: { pixels: new Array(5000).fill(0.5) } }));
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { code: string }).code).toBe("payload_too_large");
  });

  it("turns an unexpected failure into a generic 500 that leaks nothing", async () => {
    const broken = await harness({
      deps: {
        directory: {
          experts: async () => {
            throw new Error("secret connection string postgres://u:p@h");
          },
          metagraph: async () => ({ netuid: 1, block: 1, experts: [] }),
        },
      },
    });
    const res = await broken.app.request("/v1/experts");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("postgres");
    expect(JSON.parse(text).code).toBe("internal");
  });

  it("turns a backing service's passing failure into 503 busy with Retry-After, leaking nothing", async () => {
    const failing = (error: Error) =>
      harness({
        deps: {
          directory: {
            experts: async () => {
              throw error;
            },
            metagraph: async () => ({ netuid: 1, block: 1, experts: [] }),
          },
        },
      });
    const sdkError = (name: string, httpStatusCode?: number) =>
      Object.assign(new Error(`${name} at http://10.0.0.1:8000 secret`), { name, $metadata: { httpStatusCode } });
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    // As the AWS SDK throws them after its retries: a connection timeout, a throttle, a 5xx, a reset socket.
    for (const error of [
      sdkError("TimeoutError"),
      sdkError("ProvisionedThroughputExceededException", 400),
      sdkError("SomethingNew", 503),
      reset,
    ]) {
      const res = await (await failing(error)).app.request("/v1/experts");
      expect(res.status, error.name).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      const text = await res.text();
      expect(text).not.toContain("secret");
      expect(JSON.parse(text).code).toBe("busy");
    }
    // A client's own 4xx from a service is no passing trouble: still a 500 of ours.
    const refused = await (await failing(sdkError("ValidationException", 400))).app.request("/v1/experts");
    expect(refused.status).toBe(500);
  });

  it("answers a query held and sent as still running (202, Location), not busy, when the store fails while it waits", async () => {
    const requests = new MemoryRequestStore();
    let failing = false;
    const timeout = () => Object.assign(new Error("no connection within 3000 ms"), { name: "TimeoutError" });
    const flaky = Object.assign(Object.create(requests) as MemoryRequestStore, {
      get: async (id: string) => {
        if (failing) throw timeout();
        return requests.get(id);
      },
      create: async (record: Parameters<MemoryRequestStore["create"]>[0]) => {
        const created = await requests.create(record);
        failing = true; // from the record on, every read of the request times out
        return created;
      },
    });
    const h = await harness({ clock: manualClock(), deps: { requests: flaky } });
    const { key } = await h.fundedKey(10 * DIGITS_PRICE);
    const res = await paidQuery(h.app, key, "wait=5");
    // Told to retry, a client without an Idempotency-Key would pay twice: it is told where its query is instead.
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; status: string };
    expect(res.headers.get("location")).toBe(`/v1/jobs/${body.id}`);
    expect(body.status).toBe("queued");
  });

  it("answers a query whose send and job failures both failed with its Location, never an error to retry", async () => {
    const broken = await harness({
      clock: manualClock(),
      deps: {
        queue: Object.assign(new MemoryJobQueue(), {
          sendMany: async () => {
            throw Object.assign(new Error("partly sent"), { name: "SendBatchError", code: "ServiceUnavailable" });
          },
        }),
        jobs: Object.assign(new MemoryJobStore(), {
          fail: async () => {
            throw Object.assign(new Error("no connection"), { name: "TimeoutError" });
          },
        }),
      },
    });
    const { key } = await broken.fundedKey(10 * DIGITS_PRICE);
    const res = await paidQuery(broken.app, key, "respond-async");
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toMatch(/^\/v1\/jobs\//);
  });

  it("sets X-Request-Id and CORS headers on every response", async () => {
    const res = await h.app.request("/v1/tasks", { headers: { origin: "https://example.com" } });
    expect(res.headers.get("x-request-id")).toMatch(/^hr_[0-9a-f]{24}$/);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await h.app.request("/v1/tasks/digits/infer", {
      method: "OPTIONS",
      headers: { origin: "https://example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBeLessThan(300);
  });

  it("derives every status from one table, both ways", () => {
    for (const code of ERROR_CODES) {
      const status = ERROR_TABLE[code].status;
      // A status shared by several codes defaults to the first of them in table order.
      expect(codeForStatus(status)).toBe(ERROR_CODES.find((c) => ERROR_TABLE[c].status === status));
    }
    expect(codeForStatus(503)).toBe("unavailable");
    expect(codeForStatus(418)).toBe("internal");
  });
});

describe("OpenAPI document", () => {
  it("is valid OpenAPI 3.1 and lists every route the app serves", async () => {
    const h = await harness();
    const doc = (await (await h.app.request("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe("3.1.0");
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)),
    );
    const undocumented = new Set(["GET /openapi.json", "GET /docs"]);
    const served = h.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
      .filter((r) => !undocumented.has(r));
    expect(served.length).toBeGreaterThan(10);
    for (const route of served) expect(documented, route).toContain(route);
    const docs = await h.app.request("/docs");
    expect(docs.status).toBe(200);
    const html = await docs.text();
    expect(html).toContain("openapi.json");
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)/);
  });
});

describe("fuzzing the in-memory app", () => {
  it("never answers 5xx, never throws, never charges a rejected request", async () => {
    const clock = manualClock();
    const h = await harness({ clock, config: { bodyLimitBytes: 50_000 } });
    const funded = await h.fundedKey(1_000_000 * DIGITS_PRICE);
    const accountId = funded.accountId;
    const paths = [
      "/v1/tasks/digits/infer",
      "/v1/tasks/%00/infer",
      "/v1/jobs/req_x",
      "/v1/jobs/../keys",
      "/v1/jobs/req_x/cancel",
      "/v1/usage",
      "/v1/keys",
      "/v1/keys/key_1/credits",
      "/v1/receipts/verify",
      "/v1/tasks",
      "/v1/experts",
      "/v1/metagraph",
    ];
    const valid = JSON.stringify({ input: digitInput(), k: 2 });
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.constant(valid),
      fc
        .tuple(fc.nat(valid.length), fc.string({ maxLength: 4 }))
        .map(([i, s]) => valid.slice(0, i) + s + valid.slice(i + s.length)),
      fc.anything().map((v) => {
        try {
          return JSON.stringify({ input: v, k: 1 }) ?? "";
        } catch {
          return "";
        }
      }),
    );
    const auth = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.constant(`Bearer ${funded.key}`),
      fc.string().map((s) => `Bearer ${s}`),
      fc.constant(`Bearer ${funded.key.slice(0, -2)}zz`),
    );
    const prefer = fc.oneof(
      fc.constant(undefined),
      fc.string(),
      fc.constant("respond-async"),
      fc.nat(100).map((n) => `wait=${n}`),
    );
    const before = await h.ledger.getAccount(accountId);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
        fc.oneof(
          fc.constantFrom(...paths),
          fc.string().map((s) => `/v1/${encodeURIComponent(s)}`),
        ),
        body,
        auth,
        prefer,
        fc.option(fc.string({ maxLength: 300 })),
        async (method, path, text, authorization, preferHeader, idem) => {
          const headers: Record<string, string> = { "content-type": "application/json" };
          if (authorization !== undefined) headers.authorization = authorization;
          if (preferHeader !== undefined) headers.prefer = preferHeader;
          if (idem !== null) headers["idempotency-key"] = idem;
          const balance = (await h.ledger.getAccount(accountId))?.balance;
          let res: Response;
          try {
            res = await h.app.request(path, { method, headers, ...(method === "GET" ? {} : { body: text }) });
          } catch {
            // Header values the Fetch API itself refuses never reach the app.
            return;
          }
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status).toBeLessThan(500);
          expect(res.headers.get("x-request-id")).toBeTruthy();
          if (res.status >= 300) expect((await h.ledger.getAccount(accountId))?.balance).toBe(balance);
        },
      ),
      { numRuns: 10_000 },
    );
    // The fuzzer must actually reach the handlers, not only the edge: some requests pass auth and validation.
    const reached = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(reached).toBeGreaterThan(8_000);
    expect((statuses.get(202) ?? 0) + (statuses.get(200) ?? 0)).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    const after = await h.ledger.getAccount(accountId);
    // Whatever was accepted is either still held or released; nothing is captured without an answer.
    expect(after?.spent).toBe(0);
    expect((after?.balance ?? 0) + (after?.held ?? 0)).toBe((before?.balance ?? 0) + (before?.held ?? 0));
  }, 240_000);
});
