/**
 * Requests/s of the authenticated infer path (auth -> rate limit -> validate -> route -> hold -> job records ->
 * signed enqueue; Prefer: respond-async) on memory ports, against a bare Hono route on the same machine in the same
 * run, both through app.request (no sockets). Prints the ratio (target >= 0.5) and p99; last line is JSON.
 */
import { Hono } from "hono";
import { createApp } from "../functions/api/app.ts";
import { DIGITS_PRICE } from "../functions/api/testing/digits-catalog.ts";
import { memoryDeps, TEST_ADMIN_TOKEN } from "../functions/api/testing/memory-deps.ts";

const N = Number(process.env.BENCH_N ?? 3000);
const CONCURRENCY = 16;

async function measure(
  name: string,
  send: () => Promise<Response>,
): Promise<{ rps: number; p99: number; p50: number }> {
  for (let i = 0; i < 200; i++) await (await send()).arrayBuffer(); // warm-up (JIT, caches)
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next++;
        const t0 = performance.now();
        const res = await send();
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`${name}: status ${res.status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const r = { rps: latencies.length / seconds, p99: at(0.99), p50: at(0.5) };
  console.log(`${name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`);
  return r;
}

const kit = await memoryDeps();
const app = createApp(kit.deps);
const created = await app.request("/v1/keys", {
  method: "POST",
  headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({
    name: "bench",
    credits: 10 * N * 3 * DIGITS_PRICE,
    rateLimit: { perMinute: 1_000_000, burst: 100_000 },
  }),
});
const { key } = (await created.json()) as { key: string };
const body = JSON.stringify({ input: { pixels: new Array(784).fill(0.5) }, k: 3 });

const bare = new Hono();
bare.post("/v1/tasks/:task/infer", async (c) =>
  c.json({ id: "x", status: "queued", body: (await c.req.json()) !== null }, 202),
);

const send = (target: { request: (path: string, init: RequestInit) => Response | Promise<Response> }) => () =>
  Promise.resolve(
    target.request("/v1/tasks/digits/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", prefer: "respond-async" },
      body,
    }),
  );

const baseline = await measure("bare hono route", send(bare));
const full = await measure("authenticated infer (memory ports)", send(app));
// Same path with a signer that does no sr25519 work: shows how much of the cost is the k Epistula signatures.
const stubKit = await memoryDeps({
  deps: {
    gatewaySigner: {
      address: kit.deps.gatewaySigner.address,
      publicKey: kit.deps.gatewaySigner.publicKey,
      sign: () => new Uint8Array(64),
    },
  },
});
const stubApp = createApp(stubKit.deps);
const stubCreated = await stubApp.request("/v1/keys", {
  method: "POST",
  headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
  body: JSON.stringify({
    name: "bench",
    credits: 10 * N * 3 * DIGITS_PRICE,
    rateLimit: { perMinute: 1_000_000, burst: 100_000 },
  }),
});
const stubKey = ((await stubCreated.json()) as { key: string }).key;
const unsigned = await measure("authenticated infer, signing stubbed", () =>
  Promise.resolve(
    stubApp.request("/v1/tasks/digits/infer", {
      method: "POST",
      headers: { authorization: `Bearer ${stubKey}`, "content-type": "application/json", prefer: "respond-async" },
      body,
    }),
  ),
);
const ratio = full.rps / baseline.rps;
console.log(`ratio ${ratio.toFixed(3)} (target >= 0.5)`);
console.log(
  JSON.stringify({
    ratio: Number(ratio.toFixed(3)),
    infer_rps: Math.round(full.rps),
    bare_rps: Math.round(baseline.rps),
    p99_ms: Number(full.p99.toFixed(3)),
    p50_ms: Number(full.p50.toFixed(3)),
    bare_p99_ms: Number(baseline.p99.toFixed(3)),
    ratio_without_signing: Number((unsigned.rps / baseline.rps).toFixed(3)),
    unsigned_p99_ms: Number(unsigned.p99.toFixed(3)),
    n: N,
    k: 3,
  }),
);
