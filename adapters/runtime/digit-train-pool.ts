import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type DigitExpertRecipe, makeDigitExpertModel } from "../../core/experts/digit-experts.ts";
import type { Mlp } from "../../core/experts/train/mlp.ts";
import type { DigitDataset, DigitSplit } from "../../core/tasks/digits-data.ts";

type TrainedRecipe = Exclude<DigitExpertRecipe, { kind: "copy" }>;

interface Pending {
  readonly promise: Promise<Mlp>;
  resolve(model: Mlp): void;
  reject(error: unknown): void;
}

function pending(): Pending {
  let resolve: (model: Mlp) => void = () => {};
  let reject: (error: unknown) => void = () => {};
  const promise = new Promise<Mlp>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Awaited only when the build gets to it: a failure must not surface as an unhandled rejection before that.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export interface TrainingPool {
  /** One promise per recipe id; it fails if its training failed or the pool was stopped first. */
  readonly models: ReadonlyMap<string, Promise<Mlp>>;
  /** Trains nothing more: queued recipes fail, threads end (a build that gave up must not go on training). */
  stop(): void;
}

/**
 * Trains the digit recipes on up to `threads` worker threads (default: one per core, at most 4), each taking the
 * next recipe when it is done, and returns one promise per recipe id. Each expert trains from a seed of its own, so
 * where it trains changes no byte of it. With one thread it trains on the caller's thread, in order, with no thread
 * to start. The build's four slow recipes take ~23 s one after another here, ~12 s on two threads. A thread trains
 * only the build's own recipes (DIGIT_EXPERT_RECIPES, looked up by id) on the split it derives from `seed`: the
 * `recipes` and `split` given are the caller's thread's.
 */
export function trainDigitRecipes(
  recipes: readonly TrainedRecipe[],
  data: DigitDataset,
  split: DigitSplit,
  seed: number,
  threads: number = Math.min(availableParallelism(), 4),
): TrainingPool {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a whole number >= 1, got ${threads}`);
  const results = new Map(recipes.map((r) => [r.id, pending()]));
  const models = new Map([...results].map(([id, p]) => [id, p.promise]));
  const pool = Math.min(threads, recipes.length);
  const queue = recipes.map((r) => r.id);
  const workers: Worker[] = [];
  const stop = () => {
    for (const id of queue.splice(0)) results.get(id)?.reject(new Error(`training of ${id} stopped`));
    for (const worker of workers) void worker.terminate();
  };
  if (pool <= 1) {
    void (async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        // A turn of the event loop before each synchronous training run, so that progress can repaint.
        await new Promise((resolve) => setImmediate(resolve));
        const recipe = recipes.find((r) => r.id === id);
        try {
          if (!recipe) throw new Error(`no recipe ${id}`);
          results.get(id)?.resolve(makeDigitExpertModel(recipe, data, split, seed));
        } catch (error) {
          results.get(id)?.reject(error);
        }
      }
    })();
    return { models, stop };
  }
  let alive = pool;
  // One copy of the pixels (31 MB) that every thread reads, instead of a copy per thread.
  const pixels = new Float32Array(new SharedArrayBuffer(data.pixels.byteLength));
  pixels.set(data.pixels);
  for (let i = 0; i < pool; i++) {
    const worker = new Worker(new URL("./digit-train-thread.mjs", import.meta.url), {
      workerData: { pixels, labels: data.labels, seed },
      // No flags and no environment: the thread needs none (the entry loads its TypeScript itself).
      execArgv: [],
      env: {},
    });
    workers.push(worker);
    let current: string | undefined;
    const next = () => {
      current = queue.shift();
      if (current === undefined) void worker.terminate();
      else worker.postMessage({ id: current });
    };
    worker.on("message", (message: { id: string; model?: Mlp; error?: string }) => {
      const result = results.get(message.id);
      if (message.model) result?.resolve(message.model);
      else result?.reject(new Error(`training ${message.id}: ${message.error ?? "no model"}`));
      next();
    });
    worker.on("error", (error) => {
      if (current !== undefined) results.get(current)?.reject(error);
      current = undefined;
    });
    worker.on("exit", () => {
      if (current !== undefined) results.get(current)?.reject(new Error(`the training thread for ${current} ended`));
      current = undefined;
      // The last thread gone with recipes still queued (the others failed): nobody will train them.
      if (--alive === 0)
        for (const id of queue.splice(0)) results.get(id)?.reject(new Error(`no training thread left for ${id}`));
    });
    next();
  }
  return { models, stop };
}
