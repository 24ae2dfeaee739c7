// A process that ends while its inference thread is inside a long native model call (threaded-runtime.int.test.ts):
// `close` must let the call return before the thread ends, so the process exits with its own code. Prints one JSON
// line. Usage: node --import tsx adapters/runtime/testing/exit-during-run.ts <scratch dir>
import { setTimeout as sleep } from "node:timers/promises";
import { taggedPixels } from "../../../gpu-workers/testing/jobs.ts";
import { writeMlpExpert } from "../../../gpu-workers/testing/mlp-expert.ts";
import { identityReady } from "../../identity/sr25519.ts";
import { createThreadedOnnxRuntime } from "../threaded-runtime.ts";

const dir = process.argv[2];
if (!dir) throw new Error("usage: exit-during-run.ts <dir>");
await identityReady();
// Wide enough that one batch is a single native call of a few hundred ms.
const manifest = await writeMlpExpert(dir, "wide", { sizes: [784, 2048, 2048, 10] });
const runtime = createThreadedOnnxRuntime({ preferCuda: false, log: () => {} });
const model = await runtime.load(manifest);
// Float32Arrays: copied to the thread at once, so the native call is well under way by the time `close` is called.
const inputs = Array.from({ length: 3200 }, (_, i) => Float32Array.from(taggedPixels(i)));
// One batch timed first, so that `close` comes a third of the way into the next on any machine: well inside the
// native call, after the inputs have reached the thread.
const timed = performance.now();
await model.runBatch(inputs);
const batchMs = performance.now() - timed;
const started = performance.now();
const run = model.runBatch(inputs).then(
  () => "answered",
  (error: unknown) => `failed: ${error instanceof Error ? error.message : String(error)}`,
);
await sleep(batchMs / 3);
const ended = await runtime.close(60_000);
console.log(
  JSON.stringify({ ended, run: await run, ms: Math.round(performance.now() - started), batchMs: Math.round(batchMs) }),
);
process.exit(0);
