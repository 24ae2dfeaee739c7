import { Worker } from "node:worker_threads";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { ExpertModel, ExpertRuntime } from "../../core/ports/runtime.ts";
import type { ThreadReply, ThreadRequest, ThreadSettings } from "./inference-thread-protocol.ts";
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
}

/**
 * The onnxruntime adapter (onnx-runtime.ts) in a worker thread of this process: `load` and `runBatch` behave the
 * same, but a model runs off the caller's event loop. onnxruntime-node runs a session synchronously on the calling
 * thread (its `run` only defers the call), so in the worker a batch stopped everything else for its whole length:
 * receiving and parsing the next messages, digests, signatures, result writes, visibility extensions, and (in the
 * local market's in-process workers) the API itself. On a GPU the wait is the device's; on CPU the thread takes a
 * core the event loop then does not need. Batches of all experts queue on the one thread in order, as they did on
 * the event loop. A thread that dies fails what it had in flight and the next call starts a new one, loading each
 * expert again as it is next used.
 */
export interface ThreadedRuntime extends ExpertRuntime {
  /**
   * Ends the thread as a crash would: what it had in flight fails, and the next call starts a new thread that loads
   * each expert again as it is next used (a way out of a native call that never returns; the tests' crash).
   */
  restartThread(): Promise<void>;
  /** Ends the thread for good: every model's calls fail from then on. */
  close(): Promise<void>;
}

export function createThreadedOnnxRuntime(opts: OnnxRuntimeOptions = {}): ThreadedRuntime {
  const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const settings: ThreadSettings = {
    ...(opts.preferCuda !== undefined ? { preferCuda: opts.preferCuda } : {}),
    ...(opts.rootDir !== undefined ? { rootDir: opts.rootDir } : {}),
    ...(opts.intraOpThreads !== undefined ? { intraOpThreads: opts.intraOpThreads } : {}),
  };
  let thread: Thread | undefined;
  let closed = false;
  let nextId = 1;
  let nextModel = 1;

  function start(): Thread {
    if (closed) throw new Error("the inference runtime is closed");
    // No flags of this process (the entry loads its TypeScript itself, inference-thread.mjs) and no environment: the
    // thread needs none, and it is what parses miners' models (the worker's own secrets may be in its variables).
    const worker = new Worker(new URL("./inference-thread.mjs", import.meta.url), {
      workerData: settings,
      execArgv: [],
      env: {},
    });
    const started: Thread = { worker, pending: new Map(), loaded: new Map() };
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
    worker.on("exit", (code) => lost(`exited (${code})`));
    return started;
  }

  function settle(on: Thread, id: number): void {
    on.pending.delete(id);
    if (on.pending.size === 0) on.worker.unref();
  }

  function call(on: Thread, request: ThreadRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (on.pending.size === 0) on.worker.ref();
      on.pending.set(request.id, { resolve, reject });
      on.worker.postMessage(request);
    });
  }

  /** The current thread with `model` loaded on it (loading it again on a thread that replaced a lost one). */
  async function ready(model: number, manifest: ExpertManifest): Promise<{ on: Thread; provider: unknown }> {
    thread ??= start();
    const on = thread;
    let loading = on.loaded.get(model);
    if (loading === undefined) {
      loading = call(on, { t: "load", id: nextId++, model, manifest });
      on.loaded.set(model, loading);
      loading.catch(() => on.loaded.delete(model));
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
          if (!on?.loaded.delete(model)) return;
          await call(on, { t: "close", id: nextId++, model }).catch(() => {}); // a lost thread took the model with it
        },
      };
      return loaded;
    },
    async restartThread() {
      const on = thread;
      thread = undefined;
      await on?.worker.terminate();
    },
    async close() {
      closed = true;
      const on = thread;
      thread = undefined;
      await on?.worker.terminate();
    },
  };
}

function errorOf(name: string, message: string): Error {
  if (name === ModelIntegrityError.name) return new ModelIntegrityError(message);
  const error = new Error(message);
  error.name = name;
  return error;
}
