/**
 * Cost and latency of a paid query (issue 17), in one run:
 * - bare: a Hono server (real sockets, @hono/node-server) that validates the digit input with the task catalog and
 *   runs the same k digit experts inline (onnxruntime-node) on each request;
 * - market: the whole ephemeral market (what tests use: emulated SQS and DynamoDB, an in-process worker, settler,
 *   chain devnet; `--workers child`: two worker processes, as `npm start` runs them), a paid query with
 *   `Prefer: wait` over HTTP, at k = 1 and 2.
 * Each at concurrency 1, 16 and 64 for a fixed time: queries/s, p50/p99, CPU time per query (this process's, the
 * emulators' thread included, and any worker processes'; on Linux split by thread: the main thread, the emulators'
 * thread, V8's and libuv's helper threads, worker processes), and the AWS calls per query as counted by SDK
 * middleware on the data plane's clients (DynamoDB read and write request units as billed for items under 1 KB,
 * SQS requests, background polls included), priced at AWS list prices. Then the p99 at concurrency 16 while the
 * validator runs epochs (at each of --epoch-concurrency), with the per-step breakdown of those queries (the
 * dispatch + queue step's p99 too: what an epoch's jobs on the workers' queue would add). The machine is shared:
 * compare ratios within one run, not absolute figures across runs.
 * Run: node --import tsx bench/market.ts [--seconds 2] [--epoch-seconds 6] [--concurrency 1,16,64] [--k 1,2]
 *      [--epoch-concurrency 16] [--workers inprocess|child]
 * Last line: JSON, `ratio` = market queries/s over bare at k = 1, concurrency 16.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { Session } from "node:inspector";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { silentLogger } from "../adapters/log/logger.ts";
import { SQS_DELETE_WINDOW_MS } from "../adapters/queue/coalescer.ts";
import { mediaDecoders } from "../adapters/runtime/decoders.ts";
import { loadMnist } from "../adapters/runtime/mnist-loader.ts";
import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { createTaskRegistry } from "../core/tasks/registry.ts";
import { taskCatalog } from "../functions/market/catalog.ts";
import { startEphemeralMarket } from "../stacks/ephemeral/stack.ts";
import { type AwsCounts, combine, countAwsCalls, dollarsPer1000, PRICES, scaled } from "./support/aws-counter.ts";
import { type CpuParts, cpuBetween, readCpu } from "./support/thread-cpu.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "2" },
    "epoch-seconds": { type: "string", default: "6" },
    concurrency: { type: "string", default: "1,16,64" },
    k: { type: "string", default: "1,2" },
    "epoch-concurrency": { type: "string", default: "16" },
    /** A folder: each market cell's CPU profile (and each epochs cell's) is written there (open in Chrome DevTools), for the breakdown. */
    profile: { type: "string" },
    /**
     * inprocess (default, as tests run them): the workers on this process's main thread; child: two worker processes,
     * as `npm start` runs them.
     */
    workers: { type: "string", default: "inprocess" },
  },
});
if (args.workers !== "inprocess" && args.workers !== "child") throw new Error("--workers: inprocess or child");
const WORKERS = args.workers;
const SECONDS = Number(args.seconds);
const EPOCH_SECONDS = Number(args["epoch-seconds"]);
const CONCURRENCIES = String(args.concurrency).split(",").map(Number);
const KS = String(args.k).split(",").map(Number);
const EPOCH_CONCURRENCIES = String(args["epoch-concurrency"]).split(",").map(Number);

interface Cell {
  qps: number;
  p50: number;
  p99: number;
  cpuMs: number;
  /** CPU ms per query by part (bench/support/thread-cpu.ts); undefined without /proc. */
  cpuParts?: CpuParts;
  n: number;
  errors: number;
  seconds: number;
}

const at = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Closed-loop clients for `seconds`: each sends its next query when its last is answered. */
async function load(send: (i: number) => Promise<boolean>, concurrency: number, seconds: number): Promise<Cell> {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const cpu = process.cpuUsage();
  const threadsBefore = readCpu(emulatorThreadId);
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        if (await send(i++)) latencies.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const threadsAfter = readCpu(emulatorThreadId);
  const sorted = latencies.sort((a, b) => a - b);
  const perQuery = 1 / Math.max(1, latencies.length);
  const parts = threadsBefore && threadsAfter ? cpuBetween(threadsBefore, threadsAfter) : undefined;
  return {
    qps: latencies.length / elapsed,
    p50: at(sorted, 0.5),
    p99: at(sorted, 0.99),
    // With worker processes, theirs too (process.cpuUsage counts this process only).
    cpuMs: ((used.user + used.system) / 1000 + (parts?.workers ?? 0)) * perQuery,
    ...(parts
      ? {
          cpuParts: {
            main: parts.main * perQuery,
            emulators: parts.emulators * perQuery,
            helpers: parts.helpers * perQuery,
            workers: parts.workers * perQuery,
          },
        }
      : {}),
    n: latencies.length,
    errors,
    seconds: elapsed,
  };
}

/** The inspector's CPU profiler on this process; the returned function stops it and writes the profile. */
async function startProfile(): Promise<(file: string) => Promise<void>> {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post("Profiler.enable");
  await post("Profiler.start");
  return async (file) => {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const mnist = await loadMnist();
const DIGITS = 64;
const bodies = (k: number) =>
  Array.from({ length: DIGITS }, (_, d) =>
    JSON.stringify({ input: { pixels: Array.from(mnist.pixels.subarray(d * 784, (d + 1) * 784)) }, k }),
  );

// No router bootstrap: that one-off first-epoch burst (384 items per expert) is not what a running market's epochs cost.
const market = await startEphemeralMarket({
  log: silentLogger,
  routerBootstrapItems: 0,
  // Two worker processes, as `npm start` runs them; in-process: the one worker tests use.
  ...(WORKERS === "child" ? { workers: "child" as const, env: { MARKET_WORKERS: "2" } } : {}),
});
const emulatorThreadId = market.dataPlane.emulatorThreadId;
const counts = countAwsCalls([market.dataPlane.sqs, market.dataPlane.pollSqs], market.dataPlane.dynamo);
const registry = taskCatalog(createTaskRegistry(mediaDecoders));
const digitExperts = (await market.experts()).filter((m) => m.task === "digits");
const runtime = createOnnxRuntime({ preferCuda: false, log: () => {} });
const models = await Promise.all(digitExperts.slice(0, Math.max(...KS)).map((m) => runtime.load(m)));

// (a) bare: the same validation and the same experts, inline, no market.
const bare = new Hono();
bare.post("/v1/tasks/digits/infer", async (c) => {
  const body = (await c.req.json()) as { input: unknown; k: number };
  const prepared = await registry.prepare("digits", body.input);
  if (!prepared.ok) return c.json({ error: "invalid" }, 400);
  const outputs = await Promise.all(models.slice(0, body.k).map((m) => m.runBatch([prepared.value])));
  return c.json({
    status: "succeeded",
    output: registry.combine(
      "digits",
      outputs.map((o) => o[0]),
      models.slice(0, body.k).map(() => 1 / body.k),
    ),
  });
});
const bareServer = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((resolve) => bareServer.once("listening", resolve));
const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}`;

const adminHeaders = { authorization: `Bearer ${market.adminToken}`, "content-type": "application/json" };
const created = await fetch(`${market.url}/v1/keys`, {
  method: "POST",
  headers: adminHeaders,
  body: JSON.stringify({ name: "bench", credits: 1e12, rateLimit: { perMinute: 1_000_000, burst: 100_000 } }),
});
if (created.status !== 201) throw new Error(`key creation: HTTP ${created.status} ${await created.text()}`);
const { key } = (await created.json()) as { key: string };

let failuresShown = 0;
/** Queries of the current market cell whose records are read afterwards for the per-step breakdown. */
const MAX_TRACES = 400;
let traces: { id: string; sent: number; answered: number }[] = [];

/**
 * Median time of each step, from the timestamps the market writes (ms clock, so small steps read as 0-1 ms):
 * submit = client send -> request record (HTTP, auth, rate limit, validation, routing); to_answer = -> the last
 * answer signed (hold, enqueue, queue wait, batcher, inference, signature; a redelivery also reads its request);
 * settle_notice = -> settle started (the notice through the settle queue, the settler's read and checks); reply = ->
 * client has the answer (ledger capture and shares, receipt, result write, the API's waiter, HTTP). The answers'
 * own times come from the result (signature timestamps): since the seventeenth session most answers have no job
 * record.
 */
async function breakdown(): Promise<Record<string, number>> {
  const steps: Record<string, number[]> = { submit: [], to_answer: [], settle_notice: [], reply: [] };
  for (const t of traces) {
    const request = await market.dataPlane.requests.get(t.id);
    if (!request?.result) continue;
    const signed = Math.max(...request.result.experts.map((e) => Number(e.signatureTimestamp || Number.NaN)));
    steps.submit?.push(request.createdAt - t.sent);
    steps.to_answer?.push(signed - request.createdAt);
    steps.settle_notice?.push(request.result.settledAt - signed);
    steps.reply?.push(t.answered - request.result.settledAt);
  }
  traces = [];
  const sorted = (xs: readonly number[]) => xs.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    ...Object.fromEntries(Object.entries(steps).map(([name, xs]) => [name, at(sorted(xs), 0.5)])),
    // The tails: an epoch's jobs ahead of a client's on the workers' queue show in to_answer's.
    ...Object.fromEntries(Object.entries(steps).map(([name, xs]) => [`${name}_p99`, at(sorted(xs), 0.99)])),
  };
}
const sender = (url: string, k: number, auth: boolean) => {
  const texts = bodies(k);
  return async (i: number) => {
    const sent = Date.now();
    const res = await fetch(`${url}/v1/tasks/digits/infer`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(auth ? { authorization: `Bearer ${key}`, prefer: "wait=20" } : {}),
      },
      body: texts[i % DIGITS] ?? "",
    });
    const json = (await res.json()) as { status?: string; id?: string };
    const ok = res.status === 200 && json.status === "succeeded";
    if (ok && auth && json.id && traces.length < MAX_TRACES) traces.push({ id: json.id, sent, answered: Date.now() });
    if (!ok && failuresShown++ < 3) console.error(`failed: HTTP ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
    return ok;
  };
};

/** SQS requests per job message (a query's routed jobs and any shadow job): the issue's "one per job" line. */
const sqsPerJob = (aws: AwsCounts) => (aws.jobMessages > 0 ? aws.sqsRequests / aws.jobMessages : 0);
const stepRows: { k: number; c: number; steps: Record<string, number>; target?: string }[] = [];
const rows: { target: string; k: number; c: number; cell: Cell; aws?: AwsCounts }[] = [];
const print = (target: string, k: number, c: number, cell: Cell, aws?: AwsCounts) => {
  rows.push({ target, k, c, cell, ...(aws ? { aws } : {}) });
  const awsText = aws
    ? ` | per query${WORKERS === "child" ? " (the API's and the settler's calls only: the worker processes' are not counted)" : ""}: ddb ${aws.ddbReads.toFixed(2)} reads ${aws.ddbWrites.toFixed(2)} writes (${aws.ddbCalls.toFixed(2)} calls; billed ${aws.ddbReadUnitsBilled.toFixed(2)} RRU ${aws.ddbWriteUnitsBilled.toFixed(2)} WRU + ${aws.ddbIndexWriteUnits.toFixed(2)} index WRU), sqs ${aws.sqsRequests.toFixed(2)} req (${sqsPerJob(aws).toFixed(2)} per job of ${aws.jobMessages.toFixed(2)}) ($${dollarsPer1000(aws).toFixed(5)}/1000)`
    : "";
  console.log(
    `${target.padEnd(6)} k=${k} c=${String(c).padEnd(2)}: ${cell.qps.toFixed(1)} q/s, p50 ${cell.p50.toFixed(1)} ms, p99 ${cell.p99.toFixed(1)} ms, CPU ${cell.cpuMs.toFixed(2)} ms/q, n=${cell.n}${cell.errors ? ` errors=${cell.errors}` : ""}${awsText}`,
  );
  const parts = cell.cpuParts;
  if (target !== "bare" && parts && cell.n > 0) {
    const perCall = aws && WORKERS === "inprocess" ? emulatorUsPerCall(parts, aws) : undefined;
    console.log(
      `       CPU ms per query: main thread ${parts.main.toFixed(2)} (API, settler, ${WORKERS === "inprocess" ? "the worker, " : ""}the bench's clients), emulators' thread ${parts.emulators.toFixed(2)}${perCall !== undefined ? ` (${perCall.toFixed(0)} us per AWS call)` : ""}, helper threads ${parts.helpers.toFixed(2)} (V8's GC and compilers, libuv, onnxruntime)${WORKERS === "child" ? `, worker processes ${parts.workers.toFixed(2)}` : ""}`,
    );
  }
};
/** The emulators' CPU per AWS call of a query: what each DynamoDB or SQS request costs the machine besides the SDK's side. */
const emulatorUsPerCall = (parts: CpuParts, aws: AwsCounts) => {
  const calls = aws.ddbCalls + aws.sqsRequests;
  return calls > 0 ? (parts.emulators * 1000) / calls : undefined;
};

// Warm-up: JIT, sockets, the router's first reads. The market's longer: ~150 queries, not thousands as the bare
// server's half second, are what get its code (the emulators' thread's too) compiled; with 1 s its first cell ran
// ~25% slower than the same cell repeated.
for (const k of KS) {
  await load(sender(bareUrl, k, false), 4, 0.5);
  await load(sender(market.url, k, true), 4, 3);
}
// Then until three seconds in a row create no payee balance shard (20 s at most). Each payee's earnings are spread over 8 shards
// (adapters/tables/ledger-shares.ts), each created by the first credit that lands on it: a failed update, a read and
// a put, once per shard for the market's life. On a fresh market they fell in the first cells (one client, k = 1
// and 2), ~0.4 of their ~6 items written a query (bench/RESULTS.md, issue 17, twentieth session).
const shardCreations = () => counts.snapshot().byCommand["ddb:PutItem:ledger"] ?? 0;
let extraWarmUp = 0;
for (let quiet = 0; quiet < 3 && extraWarmUp < 20; extraWarmUp++) {
  const before = shardCreations();
  await load(sender(market.url, KS[KS.length - 1] ?? 2, true), 4, 1);
  quiet = shardCreations() === before ? quiet + 1 : 0;
}
console.log(`warm-up: ${extraWarmUp} s more, until three seconds in a row created no payee balance shard`);
console.log(
  `prices (us-east-1 list): DynamoDB on-demand $${PRICES.ddbWritePerMillion}/M write units, $${PRICES.ddbReadPerMillion}/M read units; SQS standard $${PRICES.sqsPerMillion}/M requests`,
);
// What the market sends with no query at all: subtracted from each cell, printed on its own.
const IDLE_SECONDS = 3;
// The warm-up's last deletes wait up to SQS_DELETE_WINDOW_MS for company: they are the warm-up's, not idle traffic.
await new Promise((resolve) => setTimeout(resolve, 5 * SQS_DELETE_WINDOW_MS));
const idleStart = counts.snapshot();
await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
const idlePerSecond = scaled(counts.since(idleStart), 1 / IDLE_SECONDS);
console.log(
  `idle market, per second (subtracted below): ddb ${idlePerSecond.ddbReadUnitsBilled.toFixed(1)} RRU ${idlePerSecond.ddbWriteUnitsBilled.toFixed(1)} WRU, sqs ${idlePerSecond.sqsRequests.toFixed(1)} req ($${((dollarsPer1000(idlePerSecond) * 3600) / 1000).toFixed(4)}/hour): ${Object.entries(
    idlePerSecond.byCommand,
  )
    .map(([name, n]) => `${name} ${n.toFixed(2)}`)
    .join(", ")}`,
);
for (const k of KS) {
  for (const c of CONCURRENCIES) {
    print("bare", k, c, await load(sender(bareUrl, k, false), c, SECONDS));
    traces = [];
    const before = counts.snapshot();
    const profiling = args.profile ? await startProfile() : undefined;
    const cell = await load(sender(market.url, k, true), c, SECONDS);
    await profiling?.(join(args.profile ?? ".", `market-k${k}-c${c}.cpuprofile`));
    // Per query, net of what the idle market sends anyway in the same time (long polls, directory refreshes).
    const net = combine(counts.since(before), idlePerSecond, -cell.seconds);
    const aws = scaled(net, 1 / Math.max(1, cell.n));
    print("market", k, c, cell, aws);
    const steps = await breakdown();
    stepRows.push({ k, c, steps });
    console.log(
      `       median ms per step: ${Object.entries(steps)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(", ")}`,
    );
    const calls = Object.entries(aws.byCommand).sort((a, b) => b[1] - a[1]);
    console.log(`       calls per query: ${calls.map(([name, n]) => `${name} ${n.toFixed(2)}`).join(", ")}`);
  }
}

// While the validator runs epochs: one epoch after another (blocks moved by hand), clients at each epoch concurrency.
const epochK = KS.includes(2) ? 2 : (KS[0] ?? 1);
let epochs = 0;
const duringEpochs = new Map<number, Cell>();
for (const c of EPOCH_CONCURRENCIES) {
  let running = true;
  const devnet = market.chain.devnet;
  const validator = (async () => {
    while (running) {
      await market.runValidatorEpoch();
      devnet?.advance(Number(market.config.MARKET_TEMPO));
      epochs++;
    }
  })();
  traces = [];
  const profiling = args.profile ? await startProfile() : undefined;
  const cell = await load(sender(market.url, epochK, true), c, EPOCH_SECONDS);
  await profiling?.(join(args.profile ?? ".", `epochs-k${epochK}-c${c}.cpuprofile`));
  running = false;
  await validator;
  duringEpochs.set(c, cell);
  print(`epochs`, epochK, c, cell);
  const steps = await breakdown();
  stepRows.push({ k: epochK, c, steps, target: "epochs" });
  console.log(
    `       median ms per step: ${Object.entries(steps)
      .map(([name, ms]) => `${name} ${ms}`)
      .join(", ")}`,
  );
  const outside = rows.find((row) => row.target === "market" && row.k === epochK && row.c === c)?.cell.p99;
  if (outside !== undefined) {
    console.log(`       p99 during epochs over p99 outside them (same run): ${(cell.p99 / outside).toFixed(2)}`);
  }
}
console.log(`validator epochs completed during that: ${epochs}`);
const epoch16 = duringEpochs.get(16);

const find = (target: string, k: number, c: number) => rows.find((r) => r.target === target && r.k === k && r.c === c);
const bare16 = find("bare", 1, 16)?.cell.qps ?? Number.NaN;
const market16 = find("market", 1, 16)?.cell.qps ?? Number.NaN;
const ratio = market16 / bare16;
const seqGap = (find("market", 1, 1)?.cell.p50 ?? Number.NaN) - (find("bare", 1, 1)?.cell.p50 ?? Number.NaN);
console.log(
  `ratio (market/bare q/s, k=1, c=16) ${ratio.toFixed(4)} (target >= 0.05); sequential p50 gap ${seqGap.toFixed(1)} ms`,
);
// What 150 queries a second on this machine's cores would leave each query, against what one takes now.
const CORES = availableParallelism();
for (const { target, k, c, cell } of rows) {
  if (target !== "market" || c !== 16 || !cell.cpuParts) continue;
  const budget = (CORES * 1000) / 150;
  const { main, emulators, helpers, workers } = cell.cpuParts;
  console.log(
    `k=${k} c=16: 150 q/s on ${CORES} cores leaves ${budget.toFixed(1)} ms of CPU per query (one thread: ${(1000 / 150).toFixed(1)} ms); a query takes ${(main + emulators + helpers + workers).toFixed(1)}: main thread ${main.toFixed(1)}, emulators ${emulators.toFixed(1)}, helper threads ${helpers.toFixed(1)}${WORKERS === "child" ? `, worker processes ${workers.toFixed(1)}` : ""}`,
  );
}
// The issue's per-query lines at k = 2: items read and written in DynamoDB, SQS requests per job.
for (const { target, k, c, aws } of rows) {
  if (target !== "market" || k !== 2 || aws === undefined || WORKERS === "child") continue;
  console.log(
    `k=2 c=${c}: ddb reads ${aws.ddbReads.toFixed(2)} (target <= 3), writes ${aws.ddbWrites.toFixed(2)} (target <= 6); sqs ${sqsPerJob(aws).toFixed(2)} per job (target <= 1)`,
  );
}
const r = (x: number, d = 2) => Number(x.toFixed(d));
const figures: Record<string, unknown> = {
  ratio: r(ratio, 4),
  sequential_p50_gap_ms: r(seqGap, 1),
  epoch_p99_ms_c16: epoch16 ? r(epoch16.p99, 1) : null,
  epoch_qps_c16: epoch16 ? r(epoch16.qps, 1) : null,
  epochs,
  workers: WORKERS,
};
for (const row of rows) {
  const name = `${row.target}_k${row.k}_c${row.c}`;
  figures[`${name}_qps`] = r(row.cell.qps, 1);
  figures[`${name}_p50_ms`] = r(row.cell.p50, 1);
  figures[`${name}_p99_ms`] = r(row.cell.p99, 1);
  figures[`${name}_cpu_ms`] = r(row.cell.cpuMs, 3);
  const parts = row.target === "market" ? row.cell.cpuParts : undefined;
  if (parts) {
    for (const [part, ms] of Object.entries(parts)) figures[`${name}_cpu_${part}_ms`] = r(ms, 3);
    const perCall = row.aws && WORKERS === "inprocess" ? emulatorUsPerCall(parts, row.aws) : undefined;
    if (perCall !== undefined) figures[`${name}_emulator_us_per_call`] = r(perCall, 0);
  }
  // With worker processes, only this process's calls are counted: not the issue's per-query figures.
  if (row.aws && WORKERS === "inprocess") {
    figures[`${name}_ddb_writes`] = r(row.aws.ddbWrites);
    figures[`${name}_ddb_reads`] = r(row.aws.ddbReads);
    figures[`${name}_ddb_wru_billed`] = r(row.aws.ddbWriteUnitsBilled);
    figures[`${name}_ddb_rru_billed`] = r(row.aws.ddbReadUnitsBilled);
    figures[`${name}_ddb_index_wru`] = r(row.aws.ddbIndexWriteUnits);
    figures[`${name}_sqs_requests`] = r(row.aws.sqsRequests);
    figures[`${name}_sqs_per_job`] = r(sqsPerJob(row.aws));
    figures[`${name}_usd_per_1000`] = r(dollarsPer1000(row.aws), 6);
  }
}
for (const row of stepRows) {
  const name = `${row.target ?? "market"}_k${row.k}_c${row.c}`;
  for (const [step, ms] of Object.entries(row.steps)) figures[`${name}_step_${step}_ms`] = ms;
}
await new Promise((resolve) => bareServer.close(resolve));
await Promise.all(models.map((m) => m.close()));
await market.stop();
console.log(JSON.stringify(figures));
