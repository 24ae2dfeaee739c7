import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMarketClient } from "../client/client.ts";

/** `npm start` as a user runs it: a real process tree, stopped with SIGINT, started again on the same data. */
const ROOT = new URL("..", import.meta.url).pathname;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function descendants(pid: number): number[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return [];
  }
  const children = out
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** Running, not merely a zombie awaiting its reaper (a container's PID 1 may never reap an orphan). */
const alive = (pid: number) => {
  try {
    const stat = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return stat !== "" && !stat.startsWith("Z");
  } catch {
    return false;
  }
};

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function start(dataDir: string, port: number): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "stacks/local/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      MARKET_DATA_DIR: dataDir,
      PORT: String(port),
      MARKET_WORKERS: "2",
      MARKET_BLOCK_MS: "200",
      MARKET_TEMPO: "20",
      MARKET_RESOURCE_PREFIX: "sigint-",
      MARKET_ADMIN_TOKEN: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${log.slice(-3000)}`);
    try {
      const res = await fetch(`${url}/health`);
      const body = (await res.json()) as { components?: Record<string, { state: string }> };
      if (res.status === 200 && body.components?.workers?.state === "ok") break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no healthy market within 90 s:\n${log.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return { child, url, output: () => log };
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => started.child.once("exit", (code) => resolve(code)));
  started.child.kill("SIGINT");
  return Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 45_000))]);
}

describe("npm start", () => {
  let dataDir = "";
  const running: Started[] = [];
  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null) s.child.kill("SIGKILL");
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("reports every component, stops cleanly on SIGINT, and resumes with the same keys and balances", async () => {
    dataDir = await mkdtemp(join(tmpdir(), "market-local-"));
    const port = await freePort();
    const first = await start(dataDir, port);
    running.push(first);

    const health = (await (await fetch(`${first.url}/health`)).json()) as {
      components: Record<string, { state: string }>;
    };
    expect(Object.keys(health.components).sort()).toEqual(["api", "chain", "queue", "tables", "validator", "workers"]);
    expect(first.output()).toContain("create an API key");

    const adminToken = (await readFile(join(dataDir, "admin-token"), "utf8")).trim();
    const admin = createMarketClient({ baseUrl: first.url, adminToken });
    const created = await admin.createKey({ name: "restart", credits: 123_456 });
    if (!created.ok) throw new Error(JSON.stringify(created.problem));
    const pixels = new Array(784).fill(0).map((_, i) => (i % 28 === 14 && i > 112 && i < 672 ? 1 : 0));
    const client = createMarketClient({ baseUrl: first.url, apiKey: created.data.key });
    const answer = await client.infer("digits", { pixels }, { k: 1, waitSeconds: 20 });
    expect(answer.ok && answer.status).toBe(200);
    const before = await client.usage();
    if (!before.ok) throw new Error(JSON.stringify(before.problem));
    expect(before.data.balance).toBe(123_456 - 1000);
    const blockBefore = ((await (await fetch(`${first.url}/v1/metagraph`)).json()) as { block: number }).block;

    const tree = descendants(first.child.pid ?? -1);
    expect(tree.length).toBeGreaterThanOrEqual(2);
    expect(await stop(first)).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    const left = tree
      .filter(alive)
      .map((pid) => `${pid} ${execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim()}`);
    expect(left).toEqual([]);
    for (const kept of ["admin-token", "devnet.json", "dynamo", "experts"])
      expect(existsSync(join(dataDir, kept))).toBe(true);

    const second = await start(dataDir, port);
    running.push(second);
    expect(second.output()).toContain("(resumed)");
    const again = createMarketClient({ baseUrl: second.url, apiKey: created.data.key });
    const after = await again.usage();
    if (!after.ok) throw new Error(JSON.stringify(after.problem));
    expect(after.data.balance).toBe(before.data.balance);
    const blockAfter = ((await (await fetch(`${second.url}/v1/metagraph`)).json()) as { block: number }).block;
    expect(blockAfter).toBeGreaterThanOrEqual(blockBefore);
    expect(await stop(second)).toBe(0);
  });
});
