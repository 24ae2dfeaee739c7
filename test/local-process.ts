import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Helpers for suites that run `npm start` as a user or a process manager does: a real process tree, in its own
 * process group (as a terminal's foreground job is), so a test can signal the group like Ctrl-C does.
 */
export const ROOT = new URL("..", import.meta.url).pathname;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** Can the port be bound again (nothing holds it)? */
export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export function descendants(pid: number): number[] {
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
export const alive = (pid: number): boolean => {
  try {
    const stat = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return stat !== "" && !stat.startsWith("Z");
  } catch {
    return false;
  }
};

export const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
  } catch {
    return "";
  }
};

export const environ = (pid: number): string => readFileSync(`/proc/${pid}/environ`, "utf8");

export interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  output(): string;
  /** Resolves with the exit (code or signal), or null if it has not exited within `ms`. */
  exited(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null>;
}

export interface StartOptions {
  readonly dataDir: string;
  readonly port: number;
  /** `npm`: `npm start`, as a user types it; `node`: the script itself. */
  readonly via: "npm" | "node";
  readonly env?: Record<string, string>;
}

/** Starts the local market with short epochs; does not wait for it (see `healthy`). */
export function launch(options: StartOptions): Started {
  const [command, args] =
    options.via === "npm"
      ? ["npm", ["start", "--silent"]]
      : [process.execPath, ["--import", "tsx", "stacks/local/main.ts"]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      MARKET_DATA_DIR: options.dataDir,
      PORT: String(options.port),
      MARKET_WORKERS: "2",
      MARKET_BLOCK_MS: "200",
      MARKET_TEMPO: "20",
      MARKET_RESOURCE_PREFIX: "local-",
      MARKET_DEVNET_RPC_PORT: "0",
      MARKET_ADMIN_TOKEN: "",
      ...options.env,
    },
    // Its own process group, like a terminal's foreground job: `process.kill(-pid, "SIGINT")` is a Ctrl-C.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    url: `http://127.0.0.1:${options.port}`,
    port: options.port,
    output: () => log,
    exited: (ms) => Promise.race([exit, new Promise<null>((r) => setTimeout(() => r(null), ms))]),
  };
}

const WORKER_READY = '"component":"gpu-worker","msg":"listening"';

/**
 * Waits until /health reports every component and each worker has said it listens (health counts worker
 * processes; a worker still loading its experts has not installed its signal handlers yet).
 */
export async function healthy(started: Started, timeoutMs = 120_000, workers = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (started.child.exitCode !== null || started.child.signalCode !== null)
      throw new Error(`the market exited early:\n${started.output().slice(-3000)}`);
    try {
      const res = await fetch(`${started.url}/health`);
      const body = (await res.json()) as { components?: Record<string, { state: string }> };
      const ready = started.output().split(WORKER_READY).length - 1 >= workers;
      if (res.status === 200 && body.components?.workers?.state === "ok" && ready) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`no healthy market within ${timeoutMs} ms:\n${started.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Polls until none of `pids` runs; returns those still running after `ms`. */
export async function waitGone(pids: readonly number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(alive);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Last resort in afterAll: nothing a failed test started may outlive it. */
export function killTree(started: Started): void {
  const pid = started.child.pid;
  if (pid === undefined) return;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // gone
    }
  }
}
