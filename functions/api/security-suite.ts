import { expect, it } from "vitest";
import { generateApiKey } from "../../core/keys/api-key.ts";

/** What the shared suite needs: a way to call the route with a given Authorization header, and keys in each state. */
export interface SecurityTarget {
  readonly name: string;
  /** Sends the route's request (a valid body where it has one) with this Authorization header (none if undefined). */
  send(authorization: string | undefined): Promise<Response>;
  readonly keys: {
    readonly valid: string;
    readonly revoked: string;
    readonly expired: string;
    /** A valid key without the route's scope. */
    readonly wrongScope: string;
  };
}

async function expectProblem(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  expect(res.headers.get("x-request-id")).toMatch(/^hr_/);
  const body = (await res.json()) as { code: string; status: number; requestId: string };
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  expect(body.requestId).toBe(res.headers.get("x-request-id"));
}

/**
 * The same auth checks for every authenticated route (unkey's runCommonRouteTests): every rejected credential gets
 * the same 401 body, so the answer says nothing about whether a key exists; a key lacking the scope gets 403.
 */
export function securitySuite(target: () => SecurityTarget): void {
  const t = () => target();
  it("rejects a request with no key", async () => {
    await expectProblem(await t().send(undefined), 401, "unauthorized");
  });
  it("rejects malformed Authorization headers", async () => {
    for (const header of [
      "",
      "Bearer",
      "Basic abc",
      "Bearer not-a-key",
      `Bearer ${"x".repeat(5000)}`,
      `bearer  ${t().keys.valid}x`,
    ]) {
      await expectProblem(await t().send(header), 401, "unauthorized");
    }
  });
  it("rejects an unknown key with the same answer as a wrong one", async () => {
    const unknown = await t().send(`Bearer ${generateApiKey("live").secret}`);
    const body = await unknown.clone().json();
    await expectProblem(unknown, 401, "unauthorized");
    const altered = t().keys.valid.slice(0, -1) + (t().keys.valid.endsWith("0") ? "1" : "0");
    const wrong = await t().send(`Bearer ${altered}`);
    const wrongBody = await wrong.clone().json();
    await expectProblem(wrong, 401, "unauthorized");
    expect({ ...wrongBody, requestId: "" }).toEqual({ ...body, requestId: "" });
  });
  it("rejects a revoked key at once", async () => {
    await expectProblem(await t().send(`Bearer ${t().keys.revoked}`), 401, "unauthorized");
  });
  it("rejects an expired key", async () => {
    await expectProblem(await t().send(`Bearer ${t().keys.expired}`), 401, "unauthorized");
  });
  it("refuses a key without the route's scope with 403", async () => {
    await expectProblem(await t().send(`Bearer ${t().keys.wrongScope}`), 403, "forbidden");
  });
  it("accepts the valid key (not 401/403)", async () => {
    const res = await t().send(`Bearer ${t().keys.valid}`);
    expect([401, 403]).not.toContain(res.status);
  });
}
