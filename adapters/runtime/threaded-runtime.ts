import { Worker } from "node:worker_threads";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { ExpertModel, ExpertRuntime } from "../../core/ports/runtime.ts";
import type { AnsweredRequest, ThreadReply, ThreadRequest, ThreadSettings } from "./inference-thread-protocol.ts";
import { ModelIntegrityError, type OnnxRuntimeOptions } from "./onnx-runtime.ts";

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** One inference thread and what is in flight on it. */
interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  /**
   * Experts loaded (or loading) on this thread, by number, with their load's answer (the provider): one the thread
   * lost is loaded again on the next, once however many calls wait for it.
   */
  readonly loaded: Map<number, Promise<unknown>>;
  /** Resolves when the thread has ended. */
  readonly ended: Promise<void>;
  /** `quit` was sent. */
  quitting: boolean;
}

/**
 * How long `close` waits by default for the thread's current model call (or load: a CUDA session can take seconds to
 * create) to return. The worker's ECS stop timeout (120 s, infra/workers.ts) covers its drain (30 s) and this.
 */
export const CLOSE_WAIT_MS = 10_000;

/**
 * The onnxruntime adapter (onnx-runtime.ts) in a worker thread of this process: `load` and `runBatch` behave the
 * same, but a model runs off the caller's event loop. onnxruntime-node runs a session synchronously on the calling
 * thread (its `run` only defers the call), so in the worker a batch stopped everything else for its whole length:
 * receiving and parsing the next messages, digests, signatures, result writes, visibility extensions. On a GPU the
 * wait is the device's; on CPU the thread takes a core the event loop then does not need. Batches of all experts
 * queue on the one thread in order, as they did on the event loop.
 *
 * Ending the thread: never `terminate()` it (nor `process.exit()` while it runs a model). Neither interrupts a native
 * call; the binding then meets its torn-down context when the call returns and the whole process aborts. The thread
 * ends itself from JavaScript on a `quit` message instead, which it can only read between two native calls.
 */
export interface ThreadedRuntime extends ExpertRuntime {
  /**
   * Ends the thread between two model calls, as a lost thread would look: what it had in flight fails, and the next
   * call starts a new thread that loads each expert again as it is next used.
   */
  restartThread(): Promise<void>;
  /**
   * Ends the thread for good (every call fails from then on), waiting up to `waitMs` for its current model call to
   * return. false: it did not end in time (a model call that does not return); the process must then not exit
   * normally, which would wait for that call and abort after it, but be killed.
   */
  close(waitMs?: number): Promise<boolean>;
  /** Models the thread holds now (a diagnostic: one per loaded expert, none once each is closed). */
  modelsInThread(): Promise<number>;
}

export function createThreadedOnnxRuntime(opts: OnnxRuntimeOptions = {}): ThreadedRuntime {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const settings: ThreadSettings = {
    ...(opts.preferCuda !== undefined ? { preferCuda: opts.preferCuda } : {}),
    ...(opts.rootDir !== undefined ? { rootDir: opts.rootDir } : {}),
    ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}),
  };
  let thread: Thread | undefined;
  /** Every thread not yet ended: the current one and any still ending (restartThread). */
  const live = new Set<Thread>();
  let closed = false;
  let nextId = 1;
  let nextModel = 1;

  function start(): Thread {
    if (closed) throw new Error("the inference runtime is closed");
    // No flags of this process (the entry loads its TypeScript itself, inference-thread.mjs) and no environment: the
    // thread needs none. This keeps the worker's variables from code in the thread, not from native code: a thread
    // is no isolation boundary.
    const worker = new Worker(new URL("./inference-thread.mjs", import.meta.url), {
      workerData: settings,
      execArgv: [],
      env: {},
    });
    let ended = () => {};
    const started: Thread = {
      worker,
      pending: new Map(),
      loaded: new Map(),
      ended: new Promise((resolve) => {
        ended = resolve;
      }),
      quitting: false,
    };
    live.add(started);
    // Only work in flight keeps the process alive (ref'd below while anything is pending).
    worker.unref();
    worker.on("message", (reply: ThreadReply) => {
      if (reply.t === "log") {
        log(reply.line);
        return;
      }
      const waiting = started.pending.get(reply.id);
      if (!waiting) return;
      settle(started, reply.id);
      if (reply.t === "done") waiting.resolve(reply.value);
      else waiting.reject(errorOf(reply.name, reply.message));
    });
    const lost = (why: string) => {
      if (thread === started) thread = undefined;
      for (const [id, waiting] of started.pending) {
        started.pending.delete(id);
        waiting.reject(new Error(`inference thread ${why}`));
      }
    };
    worker.on("error", (error) => lost(`failed: ${error.message}`));
    worker.on("exit", (code) => {
      live.delete(started);
      lost(`exited (${code})`);
      ended();
    });
    return started;
  }

  function settle(on: Thread, id: number): void {
    on.pending.delete(id);
    if (on.pending.size === 0) on.worker.unref();
  }

  function call(on: Thread, request: AnsweredRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (on.pending.size === 0) on.worker.ref();
      on.pending.set(request.id, { resolve, reject });
      try {
        on.worker.postMessage(request);
      } catch (error) {
        // An input that cannot be copied to the thread: nothing was sent, so nothing may stay pending (or ref'd).
        settle(on, request.id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Asks a thread to end between two model calls (once); resolves when it has. */
  function quit(on: Thread): Promise<void> {
    if (thread === on) thread = undefined;
    if (!on.quitting) {
      on.quitting = true;
      on.worker.postMessage({ t: "quit" } satisfies ThreadRequest);
    }
    return on.ended;
  }

  /** The current thread with `model` loaded on it (loading it again on a thread that replaced a lost one). */
  async function ready(model: number, manifest: ExpertManifest): Promise<{ on: Thread; provider: unknown }> {
    thread ??= start();
    const on = thread;
    let loading = on.loaded.get(model);
    if (loading === undefined) {
      loading = call(on, { t: "load", id: nextId++, model, manifest });
      on.loaded.set(model, loading);
      loading.catch(() => {
        if (on.loaded.get(model) === loading) on.loaded.delete(model);
      });
    }
    return { on, provider: await loading };
  }

  return {
    async load(manifest) {
      const model = nextModel++;
      const { provider } = await ready(model, manifest);
      let modelClosed = false;
      const loaded: ExpertModel = {
        manifest,
        provider: provider === "cuda" ? "cuda" : "cpu",
        async runBatch(inputs) {
          if (modelClosed) throw new Error(`expert ${manifest.id} is closed`);
          const { on } = await ready(model, manifest);
          const outputs = await call(on, { t: "run", id: nextId++, model, inputs });
          if (!Array.isArray(outputs) || outputs.length !== inputs.length) {
            throw new Error(`expert ${manifest.id}: the inference thread answered ${inputs.length} inputs wrongly`);
          }
          return outputs;
        },
        async close() {
          if (modelClosed) return;
          modelClosed = true;
          const on = thread;
          const loading = on?.loaded.get(model);
          if (!on || loading === undefined) return;
          on.loaded.delete(model);
          // A load still under way (a reload on a new thread) finishes first: a close that overtook it would find
          // nothing to release, and the session it then made would stay in the thread.
          const wasLoaded = await loading.then(
            () => true,
            () => false,
          );
          if (wasLoaded) await call(on, { t: "close", id: nextId++, model }).catch(() => {}); // a lost thread took it along
        },
      };
      return loaded;
    },
    async restartThread() {
      if (thread) await quit(thread);
    },
    async close(waitMs = CLOSE_WAIT_MS) {
      closed = true;
      const all = Promise.all([...live].map(quit)).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), waitMs);
      });
      try {
        return await Promise.race([all, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async modelsInThread() {
      if (!thread) return 0;
      const count = await call(thread, { t: "count", id: nextId++ });
      return typeof count === "number" ? count : 0;
    },
  };
}

function errorOf(name: string, message: string): Error {
  if (name === ModelIntegrityError.name) return new ModelIntegrityError(message);
  const error = new Error(message);
  error.name = name;
  return error;
}
