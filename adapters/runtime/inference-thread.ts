/**
 * The inference thread (threaded-runtime.ts): loads experts with the onnxruntime adapter and runs their batches, so
 * that the worker's event loop stays free while a model runs. onnxruntime-node's `session.run` is synchronous on the
 * calling thread (its promise only defers the call), CUDA included.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { ExpertModel } from "../../core/ports/runtime.ts";
import type { AnsweredRequest, ThreadReply, ThreadRequest, ThreadSettings } from "./inference-thread-protocol.ts";
import { createOnnxRuntime } from "./onnx-runtime.ts";

const port = parentPort;
if (!port) throw new Error("inference-thread.ts runs as a worker thread (threaded-runtime.ts)");

const settings = workerData as ThreadSettings;
const send = (reply: ThreadReply) => port.postMessage(reply);
const runtime = createOnnxRuntime({ ...settings, log: (line) => send({ t: "log", line }) });
const models = new Map<number, ExpertModel>();

port.on("message", (request: ThreadRequest) => {
  // Read between two native calls (a model call holds this thread until it returns), so ending here is safe; the
  // sessions are released with the thread.
  if (request.t === "quit") process.exit(0);
  void handle(request).then(
    (value) => send({ t: "done", id: request.id, value }),
    (error: unknown) =>
      send({
        t: "failed",
        id: request.id,
        name: error instanceof Error ? error.name : "Error",
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});

async function handle(request: AnsweredRequest): Promise<unknown> {
  switch (request.t) {
    case "load": {
      const model = await runtime.load(request.manifest);
      models.set(request.model, model);
      return model.provider;
    }
    case "run": {
      const model = models.get(request.model);
      if (!model) throw new Error(`model ${request.model} is not loaded in the inference thread`);
      return model.runBatch(request.inputs);
    }
    case "count":
      return models.size;
    case "close": {
      const model = models.get(request.model);
      models.delete(request.model);
      await model?.close();
      return null;
    }
  }
}
