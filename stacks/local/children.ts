import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "../../adapters/log/logger.ts";

/**
 * Child processes of the local stack (the GPU workers). Each is restarted if it dies on its own; on stop each gets
 * SIGTERM (workers drain their in-flight jobs), then SIGKILL after a grace period, so Ctrl-C never leaves one behind.
 */
export interface ChildSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export interface Supervisor {
  readonly pids: () => number[];
  stop(graceMs?: number): Promise<void>;
}

export function supervise(specs: readonly ChildSpec[], log: Logger): Supervisor {
  let stopping = false;
  const running = new Map<string, ChildProcess>();

  const start = (spec: ChildSpec, restarts: number) => {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      // Own stdio pipes: the child's JSON lines are re-emitted through our logger's stream unchanged.
      stdio: ["ignore", "pipe", "pipe"],
    });
    running.set(spec.name, child);
    child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    child.on("exit", (code, signal) => {
      running.delete(spec.name);
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
              resolve();
            });
            child.kill("SIGTERM");
          }),
      );
      await Promise.all(exits);
    },
  };
}
