import { connect } from "node:net";
import { serve } from "@hono/node-server";
import { describe, expect, it } from "vitest";
import { decodeJobInput } from "../../core/jobs/job-input.ts";
import { JobMessage } from "../../core/jobs/schema.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { harness } from "./testing/harness.ts";
import { TEST_ADMIN_TOKEN } from "./testing/memory-deps.ts";

/** Every route that takes a JSON body, with the credential it needs. */
function jsonRoutes(apiKey: string, keyId: string) {
  const admin = `Bearer ${TEST_ADMIN_TOKEN}`;
  return [
    { path: "/v1/tasks/digits/infer", auth: `Bearer ${apiKey}`, body: '{"input":{"pixels":[]}}' },
    { path: "/v1/keys", auth: admin, body: '{"name":"x"}' },
    { path: `/v1/keys/${keyId}/credits`, auth: admin, body: '{"amount":1}' },
    { path: "/v1/receipts/verify", auth: undefined, body: '{"receipt":{}}' },
  ];
}

describe("HTTP edges (issue 13.4)", () => {
  it("answers 415 problem+json, not 500, to a missing or wrong Content-Type on every JSON route", async () => {
    const h = await harness();
    const key = await h.fundedKey(DIGITS_PRICE);
    for (const route of jsonRoutes(key.key, key.id)) {
      for (const type of [undefined, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"]) {
        const headers: Record<string, string> = {};
        if (route.auth) headers.authorization = route.auth;
        if (type) headers["content-type"] = type;
        const res = await h.app.request(route.path, { method: "POST", headers, body: route.body });
        expect([route.path, type, res.status]).toEqual([route.path, type, 415]);
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        expect(((await res.json()) as { code: string }).code).toBe("unsupported_media_type");
      }
    }
    const doc = (await (await h.app.request("/openapi.json")).json()) as {
      paths: Record<string, { post?: { responses: Record<string, unknown> } }>;
    };
    for (const path of ["/v1/tasks/{task}/infer", "/v1/keys", "/v1/keys/{id}/credits", "/v1/receipts/verify"]) {
      expect(doc.paths[path]?.post?.responses["415"]).toBeDefined();
    }
  });

  it("a 413 says Connection: close and closes, rather than promising keep-alive", async () => {
    const h = await harness({ config: { bodyLimitBytes: 1000 } });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const socket = connect(port, "127.0.0.1");
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString();
      });
      const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
      socket.on("error", () => {});
      const size = 200_000;
      socket.write(
        `POST /v1/receipts/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
      );
      socket.write("x".repeat(size));
      await closed;
      const head = text.split("\r\n\r\n")[0] ?? "";
      expect(head).toMatch(/^HTTP\/1\.1 413/);
      expect(head.toLowerCase()).toContain("connection: close");
      expect(head.toLowerCase()).not.toContain("keep-alive");
    } finally {
      server.close();
    }
  });

  it("failed authentications are counted per socket address on a real server (not one shared bucket)", async () => {
    const h = await harness({ config: { authFailureLimit: { perMinute: 1, burst: 2 } } });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: h.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const bad = () =>
        fetch(`http://127.0.0.1:${port}/v1/usage`, { headers: { authorization: "Bearer mk_live_nope" } });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await bad()).status);
      expect(statuses).toEqual([401, 401, 429]);
      // The in-process app.request path has no socket: its address is another bucket, still open.
      expect((await h.app.request("/v1/usage")).status).toBe(401);
    } finally {
      server.close();
    }
  });

  it("job messages carry numbers as JSON.stringify writes them, not the client's padded text", async () => {
    const h = await harness();
    const key = await h.fundedKey(10 * DIGITS_PRICE);
    const padded = `0.5${"0".repeat(1000)}`;
    const body = `{"input":{"pixels":[${new Array(784).fill(padded).join(",")}]},"k":1}`;
    expect(body.length).toBeGreaterThan(780_000);
    const res = await h.app.request("/v1/tasks/digits/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key.key}`, "content-type": "application/json", prefer: "respond-async" },
      body,
    });
    expect(res.status).toBe(202);
    const [message] = await h.queue.receive({ max: 10, waitSeconds: 0 });
    expect(message).toBeDefined();
    expect(message?.body.length).toBeLessThan(10_000);
    // The pixels travel as the float32 bytes of the numbers, never as the client's text (core/jobs/job-input.ts).
    const { input } = decodeJobInput(JobMessage.parse(JSON.parse(message?.body ?? "{}")));
    expect(input).toStrictEqual(new Float32Array(784).fill(0.5));
    expect(message?.body).not.toContain("0.50");
  });
});
