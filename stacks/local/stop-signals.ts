/**
 * SIGINT, SIGTERM and SIGHUP (the terminal closed) stop the market once. Under `npm start` a Ctrl-C reaches this process twice: from the terminal
 * (the whole foreground process group gets SIGINT) and again forwarded by npm, which forwards SIGINT and SIGTERM to
 * its script. So a repeat within `duplicateMs` of the first is the same request and ignored; a later one means
 * "now" and forces the exit. `kill <npm pid>` arrives once, forwarded by npm.
 */
export interface StopSignalOptions {
  /** First signal: start the orderly stop. */
  readonly onStop: (signal: NodeJS.Signals) => void;
  /** A later signal, well after the first: give up on the orderly stop. */
  readonly onForce: (signal: NodeJS.Signals) => void;
  readonly onDuplicate?: (signal: NodeJS.Signals) => void;
  readonly duplicateMs?: number;
  readonly now?: () => number;
  /** Where signals come from (tests pass an emitter); defaults to this process. */
  readonly source?: Pick<NodeJS.Process, "on" | "off">;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function onStopSignals(options: StopSignalOptions): () => void {
  const source = options.source ?? process;
  const now = options.now ?? Date.now;
  const duplicateMs = options.duplicateMs ?? 1500;
  let first: number | null = null;
  const handler = (signal: NodeJS.Signals) => {
    const at = now();
    if (first === null) {
      first = at;
      options.onStop(signal);
    } else if (at - first < duplicateMs) {
      options.onDuplicate?.(signal);
    } else {
      options.onForce(signal);
    }
  };
  for (const signal of STOP_SIGNALS) source.on(signal, handler);
  return () => {
    for (const signal of STOP_SIGNALS) source.off(signal, handler);
  };
}

/**
 * Calls `onGone` once when this process's parent exits (it is then re-parented): `kill -9 <npm pid>`, or a shell
 * between npm and node that died of the signal instead of passing it on. The market then stops as on SIGTERM
 * rather than run on unowned.
 */
export function watchParent(onGone: () => void, everyMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
