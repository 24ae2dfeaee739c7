/**
 * How a worker process leaves (gpu-workers/main.ts): its experts' inference thread ends first, between two model
 * calls, because an exit while the thread runs one aborts the process (adapters/runtime/threaded-runtime.ts). A
 * thread that has not ended in time (a model call or load that does not return) leaves one way out that does not
 * wait for it: the process kills itself, after saying why.
 */
export interface ExitDeps {
  /** Ends the inference thread; false: it did not end in time. */
  readonly close: () => Promise<boolean>;
  readonly exit: (code: number) => void;
  readonly kill: () => void;
  readonly log: (msg: string, fields: Record<string, unknown>) => void;
}

/** `leave(code)`: the first call decides the code; later ones (a second signal) wait for the same end. */
export function exitThrough(deps: ExitDeps): (code: number) => Promise<void> {
  let leaving: Promise<void> | undefined;
  return (code) => {
    leaving ??= deps.close().then(
      (ended) => {
        if (ended) return deps.exit(code);
        deps.log("a model call or load did not return in time; killing the worker", { exitCode: code });
        deps.kill();
      },
      () => deps.exit(code),
    );
    return leaving;
  };
}
