/**
 * What the SDK's cached middleware (`cacheMiddleware`, adapters/aws/clients.ts) saves on a paid query's SQS calls:
 * the calls one query makes at one client (the API's SendMessageBatch of its jobs, the worker's long poll, its
 * notice's send, the settler's long poll, and the deletes), through SqsJobQueue against fauxqs, in alternating rounds
 * with two set-ups in the same run:
 * - baseline: one client without the cache for everything (the market before issue 17's nineteenth session);
 * - cached: the market's set-up now: sends and deletes on a client with the cache, long polls (given an abort signal)
 *   on a client of their own without it (SqsJobQueueOptions.pollSqs).
 * CPU is this process's main thread only (the emulators have their own thread), from /proc.
 * Usage: node --import tsx bench/sqs-client.ts [--cycles 300] [--rounds 5]
 * Its last line is the JSON of its figures; `ratio` = cached main-thread CPU per cycle over the baseline's.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { createSqsClient, createSqsPollClient, emulatorClientOptions } from "../adapters/aws/clients.ts";
import { ensureQueues } from "../adapters/queue/ensure.ts";
import { SqsJobQueue } from "../adapters/queue/sqs.ts";
import { JOBS_QUEUE, SETTLE_QUEUE } from "../infra/definitions.ts";
import { startEmulators } from "../stacks/ephemeral/emulators.ts";
import { readCpu } from "./support/thread-cpu.ts";

const { values } = parseArgs({
  options: { cycles: { type: "string", default: "300" }, rounds: { type: "string", default: "5" } },
});
const CYCLES = Number(values.cycles);
const ROUNDS = Number(values.rounds);

const emulators = await startEmulators();
const endpoint = emulatorClientOptions(emulators.sqsEndpoint);
const prefix = `b${randomUUID().slice(0, 6)}-`;
const jobsDef = { ...JOBS_QUEUE, deadLetter: undefined };
const settleDef = { ...SETTLE_QUEUE, deadLetter: undefined };
await ensureQueues(createSqsClient(endpoint), prefix, [jobsDef, settleDef]);

interface SetUp {
  readonly name: string;
  readonly clients: readonly SQSClient[];
  readonly jobs: SqsJobQueue;
  readonly settle: SqsJobQueue;
}

function setUp(name: string, cached: boolean): SetUp {
  const sqs = createSqsClient({ ...endpoint, cacheMiddleware: cached });
  const pollSqs = cached ? createSqsPollClient(endpoint) : sqs;
  const queue = (def: { name: string }) => new SqsJobQueue({ sqs, pollSqs, queueName: `${prefix}${def.name}` });
  return { name, clients: cached ? [sqs, pollSqs] : [sqs], jobs: queue(jobsDef), settle: queue(settleDef) };
}

const body = "x".repeat(4_000); // about a digit job's message (the tensor's base64 and the signed query)
const signal = new AbortController().signal;

/** One query's SQS calls at one client, k = 2. */
async function cycle(s: SetUp): Promise<void> {
  await s.jobs.sendMany([body, body]);
  const got: string[] = [];
  while (got.length < 2) {
    for (const m of await s.jobs.receive({ max: 10, waitSeconds: 1, signal })) got.push(m.receipt);
  }
  await s.settle.send("notice");
  const [notice] = await s.settle.receive({ max: 10, waitSeconds: 1, signal });
  await Promise.all([...got.map((r) => s.jobs.delete(r)), notice ? s.settle.delete(notice.receipt) : undefined]);
}

const mainCpuMs = () => readCpu(emulators.osThreadId)?.get(`thread ${process.pid}`)?.ms ?? Number.NaN;

async function round(s: SetUp): Promise<{ cpuUs: number; wallUs: number }> {
  const cpu0 = mainCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < CYCLES; i++) await cycle(s);
  return { cpuUs: ((mainCpuMs() - cpu0) * 1000) / CYCLES, wallUs: ((performance.now() - t0) * 1000) / CYCLES };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const baseline = setUp("baseline (no cache)", false);
const cached = setUp("cached + poll client", true);
for (const s of [baseline, cached]) for (let i = 0; i < 30; i++) await cycle(s); // warm-up
const results = new Map<SetUp, { cpuUs: number; wallUs: number }[]>([
  [baseline, []],
  [cached, []],
]);
for (let r = 0; r < ROUNDS; r++) {
  for (const s of r % 2 === 0 ? [baseline, cached] : [cached, baseline]) results.get(s)?.push(await round(s));
}
const summary = [...results].map(([s, rs]) => ({
  name: s.name,
  cpuUs: median(rs.map((x) => x.cpuUs)),
  wallUs: median(rs.map((x) => x.wallUs)),
  rounds: rs.map((x) => Math.round(x.cpuUs)),
}));
const base = summary[0];
const after = summary[1];
for (const s of summary) {
  console.log(
    `${s.name.padEnd(22)} main-thread CPU ${(s.cpuUs / 1000).toFixed(2)} ms per cycle (rounds, us: ${s.rounds.join(", ")}), wall ${(s.wallUs / 1000).toFixed(2)} ms`,
  );
}
const ratio = after && base ? after.cpuUs / base.cpuUs : Number.NaN;
console.log(`cycle = 5 SQS calls + 3 deletes of one k = 2 query; ratio (cached / baseline CPU) ${ratio.toFixed(3)}`);
for (const s of [baseline, cached]) for (const c of s.clients) c.destroy();
await emulators.stop();
console.log(
  JSON.stringify({
    ratio: Math.round(ratio * 1000) / 1000,
    baseline_cpu_us_per_cycle: Math.round(base?.cpuUs ?? Number.NaN),
    cached_cpu_us_per_cycle: Math.round(after?.cpuUs ?? Number.NaN),
    baseline_wall_us_per_cycle: Math.round(base?.wallUs ?? Number.NaN),
    cached_wall_us_per_cycle: Math.round(after?.wallUs ?? Number.NaN),
    cycles: CYCLES,
    rounds: ROUNDS,
  }),
);
