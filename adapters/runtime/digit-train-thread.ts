import { parentPort, workerData } from "node:worker_threads";
import { z } from "zod";
import { DIGIT_EXPERT_RECIPES, makeDigitExpertModel } from "../../core/experts/digit-experts.ts";
import { splitDigits } from "../../core/tasks/digits-data.ts";

/** What the pool sends once (workerData): the data set and the build's seed. */
const Setup = z.object({
  pixels: z.instanceof(Float32Array),
  labels: z.instanceof(Uint8Array),
  seed: z.number().int(),
});
const Task = z.object({ id: z.string() });

const port = parentPort;
if (!port) throw new Error("digit-train-thread.ts runs only as a worker thread (digit-train-pool.ts)");
const setup = Setup.parse(workerData);
const data = { pixels: setup.pixels, labels: setup.labels };
const split = splitDigits(data.labels.length, setup.seed);

port.on("message", (message: unknown) => {
  const { id } = Task.parse(message);
  try {
    const recipe = DIGIT_EXPERT_RECIPES.find((r) => r.id === id);
    if (!recipe || recipe.kind === "copy") throw new Error(`no trained digit recipe ${id}`);
    port.postMessage({ id, model: makeDigitExpertModel(recipe, data, split, setup.seed) });
  } catch (error) {
    port.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
