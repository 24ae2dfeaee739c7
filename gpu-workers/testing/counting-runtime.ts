// Wraps a real ExpertRuntime to count inference calls and, per job, how often its input was run. Jobs are told
// apart by the tag that testing/jobs.ts `taggedPixels` puts in the first pixel.
import type { ExpertRuntime } from "../../core/ports/runtime.ts";
import { valuesOf } from "./fake-runtime.ts";

export interface CountingRuntime extends ExpertRuntime {
  readonly calls: number[];
  /** tag -> number of times an input with that tag went through the model */
  readonly runsByTag: Map<number, number>;
}

export function countingRuntime(inner: ExpertRuntime): CountingRuntime {
  const calls: number[] = [];
  const runsByTag = new Map<number, number>();
  return {
    calls,
    runsByTag,
    async load(manifest) {
      const model = await inner.load(manifest);
      return {
        manifest: model.manifest,
        provider: model.provider,
        close: () => model.close(),
        runBatch(inputs) {
          calls.push(inputs.length);
          for (const input of inputs) {
            // A tensor arrives as a Float32Array: float32 keeps a tag's 1e-6 steps well below 2^24.
            const first = valuesOf(input)[0];
            if (typeof first !== "number") continue;
            const tag = Math.round(first * 1_000_000);
            runsByTag.set(tag, (runsByTag.get(tag) ?? 0) + 1);
          }
          return model.runBatch(inputs);
        },
      };
    },
  };
}
