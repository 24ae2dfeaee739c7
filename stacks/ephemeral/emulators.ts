import { SHARE_ENV, Worker } from "node:worker_threads";

/**
 * fauxqs (SQS) and dynalite (DynamoDB), in a thread of this process, on 127.0.0.1.
 *
 * Persistence: dynalite keeps its tables in LevelDB under `dataDir` when given (memory otherwise), so they survive
 * a restart. fauxqs is memory only: queue contents are lost on restart. Jobs that were in flight are then never
 * answered and the API's deadline handling expires them (their holds are released). Keeping them would need a
 * snapshot on stop (fauxqs `inspectQueue` lists ready, delayed and in-flight messages) and a re-send on start into
 * the re-created queues; receive counts would restart at zero, which only delays poison detection.
 */
export interface EmulatorOptions {
  /** dynalite's LevelDB folder; omitted = in memory. */
  readonly dataDir?: string;
  /** 0 (default) = a free port. */
  readonly sqsPort?: number;
  readonly dynamoPort?: number;
}

export interface Emulators {
  /** e.g. http://127.0.0.1:41234 */
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  /**
   * The emulators' thread as the operating system numbers it (Linux), so that a benchmark can tell their CPU time
   * from the market's (bench/market.ts, issue 17); undefined where the thread could not tell.
   */
  readonly osThreadId: number | undefined;
  /** Closes both servers and waits until dynalite has closed its database. */
  stop(): Promise<void>;
}

/** What the emulator thread tells this side (stacks/ephemeral/emulator-thread.mjs). */
type ThreadMessage =
  | { readonly type: "ready"; readonly sqsPort: number; readonly dynamoPort: number; readonly osThreadId?: number }
  | { readonly type: "failed"; readonly error: string }
  | { readonly type: "stopped"; readonly error?: string };

/** How long a stop waits for the thread to end on its own after its servers closed. */
const EXIT_GRACE_MS = 5_000;

/**
 * Starts both emulators in a worker thread of this process: their CPU (dynalite's request parsing, condition
 * expressions and LevelDB encoding were a quarter of the market's main thread at 16 clients, issue 17) runs on
 * another core than the API, the settler and the in-process workers, which reach them over HTTP as before.
 */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const thread = new Worker(new URL("./emulator-thread.mjs", import.meta.url), {
    workerData: { ...options },
    // The thread needs no TypeScript loader (plain JavaScript) and none of the parent's flags.
    execArgv: [],
    env: SHARE_ENV,
  });
  let stopping = false;
  const ready = await new Promise<{ sqsPort: number; dynamoPort: number; osThreadId?: number }>((resolve, reject) => {
    const fail = (error: unknown) => reject(error instanceof Error ? error : new Error(String(error)));
    thread.once("error", fail);
    thread.once("exit", (code) => fail(new Error(`emulator thread exited (${code}) before it was ready`)));
    thread.once("message", (message: ThreadMessage) => {
      thread.removeAllListeners("error");
      thread.removeAllListeners("exit");
      if (message.type === "ready") resolve(message);
      else fail(new Error(`emulators did not start: ${"error" in message ? message.error : message.type}`));
    });
  }).catch(async (error: unknown) => {
    await thread.terminate();
    throw error;
  });
  // An emulator that dies under a running market took the process down when it ran in it; it still does.
  thread.on("error", (error) => {
    if (!stopping) throw error;
  });
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    const exited = new Promise<void>((resolve) => thread.once("exit", () => resolve()));
    const closed = new Promise<ThreadMessage>((resolve) => thread.once("message", resolve));
    thread.postMessage({ type: "stop" });
    const outcome = await Promise.race([closed, exited.then(() => null)]);
    const timer = setTimeout(() => void thread.terminate(), EXIT_GRACE_MS);
    await exited;
    clearTimeout(timer);
    if (outcome?.type === "stopped" && outcome.error) throw new Error(`emulators stopped badly: ${outcome.error}`);
  };
  return {
    sqsEndpoint: `http://127.0.0.1:${ready.sqsPort}`,
    dynamoEndpoint: `http://127.0.0.1:${ready.dynamoPort}`,
    osThreadId: ready.osThreadId,
    stop: () => {
      stopped ??= stop();
      return stopped;
    },
  };
}
