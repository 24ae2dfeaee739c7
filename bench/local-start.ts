/**
 * Paid queries through `npm start` as users run it (API, settler, validator and devnet in one process, two worker
 * child processes), for two checkouts in one run: a baseline (e.g. an earlier commit, cloned and `npm ci`-ed) and a
 * candidate (default: this checkout). Each market is started on its own data folder, warmed up, loaded by closed-loop
 * clients over HTTP (`Prefer: wait`, one key with a high rate limit and enough credits) and stopped with SIGINT,
 * in the order baseline, candidate, candidate, baseline, so that a drifting machine hits both alike. CPU per query is
 * that of the whole process tree (the market's process and its workers), from /proc; Linux only.
 * The validator runs its epochs as in `npm start` (an epoch a minute, so a round of 60 s spans one wherever it
 * starts) unless `--no-validator`.
 * Run: node --import tsx bench/local-start.ts --baseline /tmp/old-clone [--candidate .] [--seconds 60] [--clients 16]
 *      [--k 2] [--no-validator]   Last line: JSON, `ratio` = candidate q/s over baseline q/s (means over the rounds).
 * It uses the fixed ports of `npm start` (8787, 9944): nothing else may hold them while it runs.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    candidate: { type: "string", default: "." },
    // The devnet's default epoch is a minute (MARKET_TEMPO 120 x MARKET_BLOCK_MS 500): each round then spans one.
    seconds: { type: "string", default: "60" },
    clients: { type: "string", default: "16" },
    k: { type: "string", default: "2" },
    "no-validator": { type: "boolean", default: false },
  },
});
if (args.baseline === undefined) throw new Error("--baseline DIR (a checkout with node_modules) is required");
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const K = Number(args.k);
const URL = "http://127.0.0.1:8787";
const WARM_UP_QUERIES = 40;

interface Round {
  readonly qps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuMsPerQuery: number;
  readonly n: number;
}

/** User + system CPU (ms) of `root` and every process below it. */
async function treeCpuMs(root: number): Promise<number> {
  const parents = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of await readdir("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // Fields after the command name (which may hold spaces): state ppid ... utime(12) stime(13), in clock ticks.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    parents.set(pid, Number(fields[1]));
    cpu.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parents.get(p)) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const [pid, ms] of cpu) if (inTree(pid)) total += ms;
  return total;
}

async function waitForHealth(child: ChildProcess): Promise<void> {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`npm start exited (${child.exitCode}) before it was up`);
    const ok = await fetch(`${URL}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("npm start was not up after 120 s");
}

async function createKey(dataDir: string): Promise<string> {
  const admin = (await readFile(join(dataDir, "admin-token"), "utf8")).trim();
  const response = await fetch(`${URL}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "bench",
      credits: 1_000_000_000,
      rateLimit: { perMinute: 1_000_000, burst: 100_000 },
    }),
  });
  const body = (await response.json()) as { key?: string };
  if (typeof body.key !== "string") throw new Error(`no key: ${response.status} ${JSON.stringify(body)}`);
  return body.key;
}

const pixels = Array.from({ length: 784 }, (_, i) => ((i * 7919) % 97) / 97);

async function query(key: string): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${URL}/v1/tasks/digits/infer`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", prefer: "wait=20" },
    body: JSON.stringify({ input: { pixels }, k: K }),
  });
  const body = (await response.json()) as { status?: string };
  if (body.status !== "succeeded") throw new Error(`query ended ${response.status}: ${JSON.stringify(body)}`);
  return performance.now() - start;
}

async function round(checkout: string): Promise<Round> {
  const dataDir = await mkdtemp(join(tmpdir(), "bench-local-start-"));
  const child = spawn("npm", ["start"], {
    cwd: checkout,
    detached: true,
    stdio: "ignore",
    env: {
      ...process.env,
      MARKET_DATA_DIR: dataDir,
      ...(args["no-validator"] ? { MARKET_VALIDATOR_ENABLED: "false" } : {}),
    },
  });
  try {
    await waitForHealth(child);
    const key = await createKey(dataDir);
    for (let i = 0; i < WARM_UP_QUERIES; i++) await query(key);
    const pid = child.pid ?? 0;
    const cpuBefore = await treeCpuMs(pid);
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < end) latencies.push(await query(key));
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    const cpu = (await treeCpuMs(pid)) - cpuBefore;
    latencies.sort((a, b) => a - b);
    const at = (p: number) =>
      Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0);
    return {
      qps: latencies.length / seconds,
      p50: at(0.5),
      p99: at(0.99),
      cpuMsPerQuery: cpu / latencies.length,
      n: latencies.length,
    };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, "SIGINT");
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

const checkouts = { baseline: resolve(args.baseline), candidate: resolve(args.candidate) };
const rounds: Record<"baseline" | "candidate", Round[]> = { baseline: [], candidate: [] };
for (const which of ["baseline", "candidate", "candidate", "baseline"] as const) {
  const r = await round(checkouts[which]);
  rounds[which].push(r);
  console.log(
    `${which.padEnd(9)} ${checkouts[which]}: ${r.qps.toFixed(1)} q/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ` +
      `CPU ${r.cpuMsPerQuery.toFixed(1)} ms/query (process tree), n=${r.n}`,
  );
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const figures = (which: "baseline" | "candidate") => ({
  qps: Number(mean(rounds[which].map((r) => r.qps)).toFixed(1)),
  p99_ms: Math.round(mean(rounds[which].map((r) => r.p99))),
  cpu_ms_per_query: Number(mean(rounds[which].map((r) => r.cpuMsPerQuery)).toFixed(1)),
});
const baseline = figures("baseline");
const candidate = figures("candidate");
console.log(
  `k=${K}, ${CLIENTS} clients, ${SECONDS} s a round, validator ${args["no-validator"] ? "off" : "on"}: ` +
    `candidate/baseline q/s ${(candidate.qps / baseline.qps).toFixed(2)}`,
);
console.log(
  JSON.stringify({
    ratio: Number((candidate.qps / baseline.qps).toFixed(3)),
    k: K,
    clients: CLIENTS,
    seconds: SECONDS,
    validator: !args["no-validator"],
    baseline,
    candidate,
  }),
);
