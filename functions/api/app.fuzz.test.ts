import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_TABLE, type ErrorCode } from "./errors.ts";
import { harness, manualClock } from "./testing/harness.ts";
import { TEST_ADMIN_TOKEN } from "./testing/memory-deps.ts";

/**
 * Issue 13 acceptance: 10,000 generated bad requests across every route (bad JSON, wrong types, huge values, wrong
 * content types, bad auth, bad paths and params, bad methods, duplicate keys, oversized bodies, weird headers) give
 * no 5xx, and every 4xx is problem+json with a code from the error table whose status it carries.
 */

const BODY_LIMIT = 16_384;
const SEED = 20_261_313;

const printable = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength });

/** Values of every JSON type, including the ones that break naive code. */
const nasty = fc.oneof(
  fc.constantFrom(
    null,
    true,
    "",
    -1,
    0,
    -0,
    1e308,
    -1e308,
    5e-324,
    2 ** 53,
    2 ** 53 + 2,
    1e15,
    1e16,
    0.5,
    "1000",
    "__proto__",
    [],
    {},
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }),
);

describe("fuzz: every route refuses bad requests cleanly (issue 13)", () => {
  it("10,000 bad requests: 0 responses of 5xx; every 4xx is problem+json with a code of its status", async () => {
    const h = await harness({
      clock: manualClock(),
      config: { bodyLimitBytes: BODY_LIMIT, defaultWaitSeconds: 0, maxWaitSeconds: 1, pollInitialMs: 250 },
    });
    const funded = await h.fundedKey(1_000_000_000);
    const readOnly = await h.fundedKey(10_000, { scopes: ["read"] });
    const revoked = await h.fundedKey(10_000);
    await h.admin.revokeKey(revoked.id);
    const first = await funded.client.infer("digits", { pixels: new Array(784).fill(0.5) }, { k: 1, waitSeconds: 0 });
    const jobId = first.ok ? first.data.id : "req_missing";

    const segment = fc.oneof(
      fc.constantFrom(
        funded.id,
        jobId,
        "digits",
        "speech",
        "0",
        "1",
        "65535",
        "65536",
        "-1",
        "1e3",
        "0x1",
        "..",
        "%2e%2e",
      ),
      fc.constantFrom("%00", "%FF", "%2F", "a%20b", "\u00e9", "x".repeat(300), "x".repeat(5000)),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    );
    const path = fc.oneof(
      fc.constantFrom(
        "/v1/tasks",
        "/v1/usage",
        "/v1/keys",
        "/v1/experts",
        "/v1/metagraph",
        "/v1/receipts/verify",
        "/health",
        "/openapi.json",
        "/docs",
        "/",
        "//v1//tasks",
        "/v1/tasks/",
        "/v1/usage?x=1&x=2",
        "/v1/jobs",
        "/v1/jobs?limit=0",
        "/v1/jobs?limit=2&cursor=%%%",
        "/v1/keys?limit=101",
        "/problems/not-found",
      ),
      segment.map((s) => `/v1/jobs?cursor=${s}`),
      segment.map((s) => `/v1/jobs/${s}/events`),
      segment.map((s) => `/v1/keys?cursor=${s}&accountId=${s}`),
      segment.map((s) => `/v1/keys/${s}/rotate`),
      segment.map((s) => `/problems/${s}`),
      segment.map((s) => `/v1/tasks/${s}/infer`),
      segment.map((s) => `/v1/jobs/${s}`),
      segment.map((s) => `/v1/jobs/${s}/cancel`),
      segment.map((s) => `/v1/keys/${s}`),
      segment.map((s) => `/v1/keys/${s}/credits`),
      segment.map((s) => `/v1/experts/${s}/earnings`),
      segment.map((s) => `/v1/experts/${s}/earnings/entries`),
      fc.tuple(segment, segment).map(([a, b]) => `/v1/${a}/${b}`),
    );
    const auth = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        `Bearer ${funded.key}`,
        `Bearer ${readOnly.key}`,
        `Bearer ${revoked.key}`,
        `Bearer ${TEST_ADMIN_TOKEN}`,
        `Bearer ${funded.key.slice(0, -1)}x`,
        `bearer ${funded.key}`,
        `Basic ${funded.key}`,
        "Bearer",
        "Bearer  ",
        `Bearer ${"k".repeat(8000)}`,
      ),
      printable(60),
    );
    const contentType = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/problem+json",
        "application/jsonx",
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=utf-16",
        "",
      ),
      printable(30),
    );
    const pixels = (fill: unknown, length = 784) => new Array(length).fill(fill);
    const objectBody = fc.oneof(
      fc.record(
        {
          input: fc.oneof(
            nasty,
            nasty.map((v) => ({ pixels: v })),
            nasty.map((v) => ({ pixels: pixels(v) })),
          ),
          k: nasty,
        },
        { requiredKeys: [] },
      ),
      fc.record({
        input: fc.constant({ pixels: pixels(0.5) }),
        k: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: -5, max: 100 })),
      }),
      fc.record(
        { name: nasty, credits: nasty, rateLimit: nasty, expiresAt: nasty, scopes: nasty, accountId: nasty },
        { requiredKeys: [] },
      ),
      fc.record({ amount: nasty, memo: nasty }, { requiredKeys: [] }),
      fc.record({ receipt: nasty, output: nasty }, { requiredKeys: [] }),
      fc.dictionary(fc.string({ maxLength: 10 }), nasty, { maxKeys: 5 }),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      objectBody.map((o) => JSON.stringify(o)),
      fc.constantFrom(
        "",
        "{",
        "}",
        "[1,2",
        "null",
        "[]",
        '"text"',
        "{'a':1}",
        '{"input":1,"input":2}',
        '{"amount":1,"amount":1e400}',
        '{"name":"x","name":{"__proto__":{"polluted":1}}}',
        '{"receipt":{},"output":{},"receipt":null}',
        `{"input":{"pixels":[${pixels(`0.${"0".repeat(40)}5`).join(",")}]}}`,
        `{"input":{"png":"${"A".repeat(2000)}"}}`,
        "[".repeat(6000) + "]".repeat(6000),
        `{"a":${"[".repeat(3000)}${"]".repeat(3000)}}`,
        `{"receipt":${'{"a":'.repeat(1500)}1${"}".repeat(1500)},"output":${"[".repeat(2000)}${"]".repeat(2000)}}`,
        "x".repeat(BODY_LIMIT + 1),
        `{"input":"${"y".repeat(BODY_LIMIT)}"}`,
        "\u0000\u0001\u0002",
        "\uFEFF{}",
      ),
      fc.string({ maxLength: 200 }),
    );
    const extraHeaders = fc.record(
      {
        "idempotency-key": fc.oneof(printable(20), fc.constant("x".repeat(300)), fc.constant("")),
        prefer: fc.oneof(printable(20), fc.constantFrom("respond-async", "wait=1", "wait=999999", "wait=-1")),
        accept: fc.constantFrom("*/*", "text/html", "application/xml"),
        "x-forwarded-for": printable(40),
        "content-encoding": fc.constantFrom("gzip", "br", "identity"),
        origin: fc.constantFrom("https://evil.example", "null"),
      },
      { requiredKeys: [] },
    );
    const method = fc.constantFrom(
      "GET",
      "POST",
      "POST",
      "POST",
      "DELETE",
      "PUT",
      "PATCH",
      "HEAD",
      "OPTIONS",
      "TRACE2",
    );

    // Aimed requests: the route's own method, credential and content type, so the bad bodies and params reach
    // validation and the handlers instead of stopping at auth or routing.
    const client = `Bearer ${funded.key}`;
    const admin = `Bearer ${TEST_ADMIN_TOKEN}`;
    const aimedRoutes = fc.oneof(
      segment.map((s) => ({ m: "POST", p: `/v1/tasks/${s}/infer`, a: client })),
      fc.constant({ m: "POST", p: "/v1/tasks/digits/infer", a: client }),
      fc.constant({ m: "POST", p: "/v1/tasks/digits/infer", a: client }),
      fc.constant({ m: "POST", p: "/v1/keys", a: admin }),
      segment.map((s) => ({ m: "POST", p: `/v1/keys/${s}/credits`, a: admin })),
      fc.constant({ m: "POST", p: `/v1/keys/${funded.id}/credits`, a: admin }),
      fc.constant({ m: "POST", p: "/v1/receipts/verify", a: undefined }),
      segment.map((s) => ({ m: "GET", p: `/v1/jobs/${s}`, a: client })),
      segment.map((s) => ({ m: "POST", p: `/v1/jobs/${s}/cancel`, a: client })),
      segment.map((s) => ({ m: "GET", p: `/v1/keys/${s}`, a: admin })),
      segment.map((s) => ({ m: "DELETE", p: `/v1/keys/${s}`, a: admin })),
      segment.map((s) => ({ m: "GET", p: `/v1/experts/${s}/earnings`, a: undefined })),
      segment.map((s) => ({ m: "GET", p: `/v1/jobs?limit=3&cursor=${s}`, a: client })),
      segment.map((s) => ({ m: "GET", p: `/v1/jobs/${s}/events`, a: client })),
      segment.map((s) => ({ m: "GET", p: `/v1/keys?cursor=${s}`, a: admin })),
      segment.map((s) => ({ m: "POST", p: `/v1/keys/${s}/rotate`, a: admin })),
      segment.map((s) => ({ m: "GET", p: `/problems/${s}`, a: undefined })),
      segment.map((s) => ({ m: "GET", p: `/v1/experts/${s}/earnings/entries`, a: admin })),
    );
    const aimed = fc.tuple(
      aimedRoutes,
      fc.oneof(fc.constant("application/json"), contentType),
      fc.oneof(
        body,
        objectBody.map((o) => JSON.stringify(o)),
      ),
      fc.oneof(fc.constant({}), extraHeaders),
    );
    const anything = fc.tuple(method, path, auth, contentType, body, extraHeaders);
    // Near-valid queries, so the paid path itself (hold, route, enqueue, idempotent replays) is exercised.
    const query = fc
      .record({
        k: fc.integer({ min: 1, max: 8 }),
        fill: fc.constantFrom(0, 0.25, 1),
        idem: fc.option(fc.constantFrom("a", "b", "c")),
        prefer: fc.option(fc.constantFrom("respond-async", "wait=1", "wait=0")),
        webhook: fc.option(
          fc.record({
            url: fc.constantFrom(
              "https://example.com/hook",
              "http://127.0.0.1:1/x",
              "ftp://x",
              "nope",
              "https://[::1]/",
            ),
            events: fc.option(fc.constantFrom(["completed"], ["failed", "succeeded"], [], ["bogus"])),
          }),
        ),
      })
      .map(
        ({ k, fill, idem, prefer, webhook }) =>
          [
            "POST",
            "/v1/tasks/digits/infer",
            client,
            "application/json",
            JSON.stringify({ input: { pixels: pixels(fill) }, k, ...(webhook ? { webhook } : {}) }),
            { ...(idem ? { "idempotency-key": idem } : {}), ...(prefer ? { prefer } : {}) },
          ] as const,
      );
    const request = fc.oneof(
      { weight: 3, arbitrary: aimed.map(([r, type, text, extra]) => [r.m, r.p, r.a, type, text, extra] as const) },
      { weight: 2, arbitrary: anything },
      { weight: 1, arbitrary: query },
    );

    const statuses = new Map<number, number>();
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(request, async ([m, p, authorization, type, text, extra]) => {
        const headers: Record<string, string> = { ...extra };
        if (authorization !== undefined) headers.authorization = authorization;
        if (type !== undefined) headers["content-type"] = type;
        const withBody = m !== "GET" && m !== "HEAD" && text !== undefined;
        let request: Request;
        try {
          request = new Request(`http://market.test${p}`, {
            method: m,
            headers,
            ...(withBody ? { body: text } : {}),
          });
        } catch {
          return; // the Fetch API itself refuses it: it never reaches a server
        }
        sent++;
        const res = await h.app.request(request);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, `${m} ${p}`).toBeLessThan(500);
        if (res.status < 400 || m === "HEAD") return;
        expect(res.headers.get("content-type"), `${m} ${p} ${res.status}`).toBe("application/problem+json");
        const problem = (await res.json()) as { code: ErrorCode; status: number };
        expect(ERROR_TABLE[problem.code]?.status, `${m} ${p}: ${JSON.stringify(problem)}`).toBe(res.status);
        expect(problem.status).toBe(res.status);
      }),
      { numRuns: 10_000, seed: SEED },
    );
    expect(sent).toBeGreaterThan(9_000);
    // The generator reaches deep: past auth and validation (2xx), and into most refusals.
    const seen = (s: number) => statuses.get(s) ?? 0;
    expect(seen(200) + seen(201) + seen(202)).toBeGreaterThan(0);
    for (const s of [400, 401, 403, 404, 413, 415, 422]) expect(seen(s), `status ${s}`).toBeGreaterThan(0);
    console.info("fuzz statuses", JSON.stringify(Object.fromEntries(statuses)));
  });
});
