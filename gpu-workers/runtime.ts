import { createOnnxRuntime } from "../adapters/runtime/onnx-runtime.ts";
import { createThreadedOnnxRuntime } from "../adapters/runtime/threaded-runtime.ts";
import type { ExpertRuntime } from "../core/ports/runtime.ts";
import type { WorkerConfig } from "./config.ts";

export interface WorkerRuntime {
  readonly runtime: ExpertRuntime;
  /** Where the experts run: `thread` (WORKER_INFERENCE_THREAD, the default) or the worker's own thread. */
  readonly where: "thread" | "inline";
  /**
   * Before the process exits: ends the inference thread between two model calls (an exit during one aborts the
   * process, threaded-runtime.ts). false: a model call did not return within `waitMs`.
   */
  close(waitMs?: number): Promise<boolean>;
}

/** The worker process's expert runtime, as its config says. */
export function workerRuntime(
  config: Pick<WorkerConfig, "preferCuda" | "intraOpThreads" | "inferenceThread">,
  log: (msg: string) => void,
): WorkerRuntime {
  const options = { preferCuda: config.preferCuda, intraOpThreads: config.intraOpThreads, log };
  if (!config.inferenceThread) {
    return { runtime: createOnnxRuntime(options), where: "inline", close: async () => true };
  }
  const runtime = createThreadedOnnxRuntime(options);
  return { runtime, where: "thread", close: (waitMs) => runtime.close(waitMs) };
}
