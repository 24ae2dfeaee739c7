import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "../../adapters/log/logger.ts";

/**
 * Child processes of the local stack (the GPU workers), owned by this process alone:
 * - each runs in its own process group and session (`detached`), so a terminal's Ctrl-C or hang-up reaches only
 *   the supervisor, and each child gets exactly one SIGTERM, from here, when the market stops (it then drains);
 * - its stdin is a pipe from here that is never written: when this process dies, even by SIGKILL, the pipe closes
 *   and the child (WORKER_EXIT_ON_STDIN_EOF) drains and exits instead of living on as an orphan;
 * - one that dies on its own is restarted with back-off; on stop each gets SIGTERM, then SIGKILL after a grace;
 * - if this process exits without a stop (a crash, a forced exit) every child still running gets its one SIGTERM.
 */
export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** The child's whole environment: nothing of the parent's is added (see stacks/parts/worker-env.ts). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

export interface Supervisor {
  readonly pids: () => number[];
  stop(graceMs?: number): Promise<void>;
}

export function supervise(specs: readonly ChildSpec[], log: Logger): Supervisor {
  let stopping = false;
  const running = new Map<string, ChildProcess>();
  // Children already sent their SIGTERM: never signalled twice, which would make a worker give up its drain.
  const signalled = new WeakSet<ChildProcess>();
  const terminate = (child: ChildProcess) => {
    if (signalled.has(child) || child.exitCode !== null || child.signalCode !== null) return;
    signalled.add(child);
    child.kill("SIGTERM");
  };
  const onExit = () => {
    for (const child of running.values()) terminate(child);
  };
  process.on("exit", onExit);

  const start = (spec: ChildSpec, restarts: number) => {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: { ...spec.env },
      detached: true,
      // stdin: the lifeline above. stdout/stderr: the child's JSON lines are re-emitted through our stream unchanged.
      stdio: ["pipe", "pipe", "pipe"],
    });
    running.set(spec.name, child);
    // The child may close its end first (it exits); a write never happens, but an EPIPE must not crash us.
    child.stdin?.on("error", () => {});
    child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    child.on("exit", (code, signal) => {
      if (running.get(spec.name) === child) running.delete(spec.name);
      if (stopping) return;
      log.warn("child exited; restarting", { child: spec.name, code, signal, restarts });
      // Back off so a child that crashes at boot does not spin the CPU.
      setTimeout(
        () => !stopping && start(spec, restarts + 1),
        Math.min(10_000, 250 * 2 ** Math.min(restarts, 5)),
      ).unref();
    });
    child.on("error", (error) => log.error("child failed to start", { child: spec.name, error }));
  };

  for (const spec of specs) start(spec, 0);

  return {
    pids: () => [...running.values()].flatMap((c) => (c.pid === undefined ? [] : [c.pid])),
    async stop(graceMs = 10_000) {
      stopping = true;
      const exits = [...running.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
            child.once("exit", () => {
              clearTimeout(timer);
              // `exit` can come before the last lines are read from its pipes (its drain report): wait for `close`,
              // briefly, in case something the child started still holds them.
              const flushed = setTimeout(resolve, 2000);
              child.once("close", () => {
                clearTimeout(flushed);
                resolve();
              });
            });
            terminate(child);
          }),
      );
      await Promise.all(exits);
      process.off("exit", onExit);
    },
  };
}
