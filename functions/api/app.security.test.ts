import { beforeAll, describe, expect, it } from "vitest";
import { type SecurityTarget, securitySuite } from "./security-suite.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness } from "./testing/harness.ts";
import { TEST_ADMIN_TOKEN } from "./testing/memory-deps.ts";

type H = Awaited<ReturnType<typeof harness>>;
let h: H;
const keys = { valid: "", revoked: "", expired: "", readOnly: "", inferOnly: "" };
let jobId = "";

beforeAll(async () => {
  h = await harness();
  const make = async (extra: Parameters<H["fundedKey"]>[1] = {}) => h.fundedKey(100 * DIGITS_PRICE, extra);
  const valid = await make();
  keys.valid = valid.key;
  const revoked = await make();
  await h.admin.revokeKey(revoked.id);
  keys.revoked = revoked.key;
  keys.expired = (await make({ expiresAt: new Date(Date.now() - 1000).toISOString() })).key;
  keys.readOnly = (await make({ scopes: ["read"] })).key;
  keys.inferOnly = (await make({ scopes: ["infer"] })).key;
  const r = await valid.client.infer("digits", digitInput(), { waitSeconds: 0 });
  if (!r.ok) throw new Error("infer");
  jobId = r.data.id;
});

function target(
  name: string,
  method: string,
  path: () => string,
  scope: "infer" | "read",
  body?: unknown,
): () => SecurityTarget {
  return () => ({
    name,
    send: (authorization) =>
      Promise.resolve(
        h.app.request(path(), {
          method,
          headers: {
            ...(authorization !== undefined ? { authorization } : {}),
            ...(body !== undefined ? { "content-type": "application/json", prefer: "respond-async" } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
      ),
    keys: {
      valid: keys.valid,
      revoked: keys.revoked,
      expired: keys.expired,
      wrongScope: scope === "infer" ? keys.readOnly : keys.inferOnly,
    },
  });
}

describe("POST /v1/tasks/{task}/infer", () =>
  securitySuite(target("infer", "POST", () => "/v1/tasks/digits/infer", "infer", { input: digitInput(), k: 1 })));
describe("GET /v1/jobs/{id}", () => securitySuite(target("job", "GET", () => `/v1/jobs/${jobId}`, "read")));
describe("POST /v1/jobs/{id}/cancel", () =>
  securitySuite(target("cancel", "POST", () => `/v1/jobs/${jobId}-x/cancel`, "infer")));
describe("GET /v1/usage", () => securitySuite(target("usage", "GET", () => "/v1/usage", "read")));

describe("admin routes", () => {
  const routes: [string, string, unknown?][] = [
    ["POST", "/v1/keys", { name: "x" }],
    ["GET", "/v1/keys/key_x"],
    ["DELETE", "/v1/keys/key_x"],
    ["POST", "/v1/keys/key_x/credits", { amount: 1 }],
  ];
  it.each(routes)("%s %s needs the admin token, compared exactly", async (method, path, body) => {
    for (const auth of [
      undefined,
      "Bearer wrong",
      `Bearer ${TEST_ADMIN_TOKEN}x`,
      `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`,
      `Bearer ${keys.valid}`,
    ]) {
      const res = await h.app.request(path, {
        method,
        headers: { ...(auth ? { authorization: auth } : {}), "content-type": "application/json" },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status).toBe(401);
    }
  });

  it("another account's job reads as absent", async () => {
    const other = await h.fundedKey(0);
    const res = await other.client.job(jobId);
    expect(!res.ok && res.status).toBe(404);
  });

  it("rate limits per key with 429 and Retry-After", async () => {
    const limited = await h.fundedKey(100 * DIGITS_PRICE, { rateLimit: { perMinute: 1, burst: 2 } });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 3; i++) {
      const res = await h.app.request("/v1/usage", { headers: { authorization: `Bearer ${limited.key}` } });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
