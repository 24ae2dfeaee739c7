/**
 * Requests/s of the authenticated infer path (auth -> rate limit -> validate -> route -> hold -> job records ->
 * enqueue; Prefer: respond-async) on memory ports, against a bare Hono route that parses the same JSON body, in the
 * same run, both through app.request (no sockets). The variants run in short interleaved batches (bare, infer,
 * infer with an Idempotency-Key, again and again) so that load from other processes on the machine hits them alike;
 * each throughput is the median of its batches', latencies are pooled over all batches. The CPU time per request
 * of the process is also compared (cpu_ratio): on a shared machine it is the steadier of the two figures. Target ratio >= 0.5. Requests carry a Content-Length, as every HTTP client sends for
 * a fixed body (without it the body-limit middleware must copy the stream). The last line is JSON.
 */
import { Hono } from "hono";
import { createApp } from "../functions/api/app.ts";
import { DIGITS_PRICE } from "../functions/api/testing/digits-catalog.ts";
import { memoryDeps, TEST_ADMIN_TOKEN } from "../functions/api/testing/memory-deps.ts";

const N = Number(process.env.BENCH_N ?? 6000);
const BATCH = 500;
/** A fresh app every this many batches: the memory stores and the queue nobody drains only grow. */
const BATCHES_PER_APP = 4;
const CONCURRENCY = 16;

type Target = { request: (path: string, init: RequestInit) => Response | Promise<Response> };

interface Tally {
  readonly name: string;
  /** Requests/s of each batch. */
  readonly rates: number[];
  /** CPU time of this process per request (µs) of each batch: unlike wall time, barely moved by other processes. */
  readonly cpuPerRequest: number[];
  readonly latencies: number[];
}

async function batch(tally: Tally, send: () => Promise<Response>, n: number): Promise<void> {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next++;
        const t0 = performance.now();
        const res = await send();
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`${tally.name}: status ${res.status}`);
        tally.latencies.push(performance.now() - t0);
      }
    }),
  );
  tally.rates.push(n / ((performance.now() - start) / 1000));
  const used = process.cpuUsage(cpu);
  tally.cpuPerRequest.push((used.user + used.system) / n);
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}

function figures(t: Tally) {
  const sorted = [...t.latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  // The median batch: a batch that another process preempted (this machine is shared) does not drag the figure.
  const r = { rps: median(t.rates), cpuUs: median(t.cpuPerRequest), p50: at(0.5), p99: at(0.99) };
  console.log(
    `${t.name}: ${r.rps.toFixed(0)} req/s, ${r.cpuUs.toFixed(1)} µs CPU/request, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`,
  );
  return r;
}

/** A fresh app on fresh memory ports, with a funded key. */
async function freshApp(): Promise<{ app: Target; key: string }> {
  const kit = await memoryDeps();
  const app = createApp(kit.deps);
  const created = await app.request("/v1/keys", {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "bench",
      credits: 10 * (BATCHES_PER_APP * BATCH + 1000) * 2 * 3 * DIGITS_PRICE,
      rateLimit: { perMinute: 1_000_000, burst: 100_000 },
    }),
  });
  const { key } = (await created.json()) as { key: string };
  return { app, key };
}

// Varied pixels, as a real digit has: V8 caches number-to-string conversions, so a constant image would flatter
// any serialiser on the path.
const body = JSON.stringify({ input: { pixels: Array.from({ length: 784 }, (_, i) => ((i * 37) % 256) / 255) }, k: 3 });

const bare = new Hono();
bare.post("/v1/tasks/:task/infer", async (c) =>
  c.json({ id: "x", status: "queued", body: (await c.req.json()) !== null }, 202),
);

let idempotency = 0;
const send =
  (target: Target, key: string, withIdempotencyKey = false) =>
  () =>
    Promise.resolve(
      target.request("/v1/tasks/digits/infer", {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          prefer: "respond-async",
          ...(withIdempotencyKey ? { "idempotency-key": `bench-${idempotency++}` } : {}),
        },
        body,
      }),
    );

const tally = (name: string): Tally => ({ name, rates: [], cpuPerRequest: [], latencies: [] });
const tallies = {
  bare: tally("bare hono route"),
  infer: tally("authenticated infer (memory ports)"),
  idem: tally("same, with an Idempotency-Key"),
};
const warmup = tally("warm-up");
let current = await freshApp();
for (const go of [send(bare, current.key), send(current.app, current.key), send(current.app, current.key, true)]) {
  await batch(warmup, go, 1000); // JIT, caches
}
const batches = Math.ceil(N / BATCH);
for (let b = 0; b < batches; b++) {
  if (b > 0 && b % BATCHES_PER_APP === 0) current = await freshApp();
  await batch(tallies.bare, send(bare, current.key), BATCH);
  await batch(tallies.infer, send(current.app, current.key), BATCH);
  await batch(tallies.idem, send(current.app, current.key, true), BATCH);
}
const base = figures(tallies.bare);
const infer = figures(tallies.infer);
const idem = figures(tallies.idem);
const ratio = infer.rps / base.rps;
const ratioIdem = idem.rps / base.rps;
const cpuRatio = base.cpuUs / infer.cpuUs;
const cpuRatioIdem = base.cpuUs / idem.cpuUs;
console.log(`ratio ${ratio.toFixed(3)} (target >= 0.5); with Idempotency-Key ${ratioIdem.toFixed(3)}`);
console.log(`CPU-time ratio ${cpuRatio.toFixed(3)}; with Idempotency-Key ${cpuRatioIdem.toFixed(3)}`);
console.log(
  JSON.stringify({
    ratio: Number(ratio.toFixed(3)),
    ratio_idempotent: Number(ratioIdem.toFixed(3)),
    cpu_ratio: Number(cpuRatio.toFixed(3)),
    cpu_ratio_idempotent: Number(cpuRatioIdem.toFixed(3)),
    infer_cpu_us: Number(infer.cpuUs.toFixed(1)),
    bare_cpu_us: Number(base.cpuUs.toFixed(1)),
    infer_rps: Math.round(infer.rps),
    bare_rps: Math.round(base.rps),
    p99_ms: Number(infer.p99.toFixed(3)),
    p50_ms: Number(infer.p50.toFixed(3)),
    idempotent_p99_ms: Number(idem.p99.toFixed(3)),
    bare_p99_ms: Number(base.p99.toFixed(3)),
    n: batches * BATCH,
    batch: BATCH,
    concurrency: CONCURRENCY,
    k: 3,
  }),
);
