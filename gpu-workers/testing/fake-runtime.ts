// A fake ExpertRuntime for unit tests: deterministic outputs, observable calls, injectable failures and delays.
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { ExpertModel, ExpertRuntime } from "../../core/ports/runtime.ts";

export interface FakeRuntime extends ExpertRuntime {
  /** Every runBatch call: expert id and batch inputs. */
  readonly calls: { expert: string; inputs: unknown[] }[];
  readonly loads: string[];
  readonly closed: string[];
  /** Inputs for which the model throws (a crash the worker sees as retryable). */
  crashWhen: (input: unknown) => boolean;
  /** Inputs whose output carries this many extra characters (a model answering far more than its task's output). */
  bloatWhen: (input: unknown) => number;
  /** Delay of every runBatch call (ms). */
  delayMs: number;
  /** Every runBatch call from now on never returns (a hung model). */
  hangs: boolean;
  /** Every runBatch call from now on returns only once this settles (a slow model, released by the test). */
  gate: Promise<void> | undefined;
}

/** probs: one-hot of round(first value * 10) mod 10, so outputs depend on inputs. */
export function fakeRuntime(): FakeRuntime {
  const runtime: FakeRuntime = {
    calls: [],
    loads: [],
    closed: [],
    crashWhen: () => false,
    bloatWhen: () => 0,
    delayMs: 0,
    hangs: false,
    gate: undefined,
    async load(manifest: ExpertManifest): Promise<ExpertModel> {
      runtime.loads.push(manifest.id);
      return {
        manifest,
        provider: "cpu",
        async runBatch(inputs) {
          runtime.calls.push({ expert: manifest.id, inputs: [...inputs] });
          if (runtime.hangs) await new Promise(() => {});
          if (runtime.gate !== undefined) await runtime.gate;
          if (runtime.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, runtime.delayMs));
          if (inputs.some((x) => runtime.crashWhen(x))) throw new Error("model crashed");
          return inputs.map((x) => {
            const head = valuesOf(x)[0];
            const first = typeof head === "number" ? head : 0;
            const probs = new Array<number>(10).fill(0);
            probs[Math.round(first * 10) % 10] = 1;
            const bloat = runtime.bloatWhen(x);
            return bloat > 0 ? { probs, pad: "x".repeat(bloat) } : { probs };
          });
        },
        async close() {
          runtime.closed.push(manifest.id);
        },
      };
    },
  };
  return runtime;
}

/** The numbers of an input as the worker hands it over: a Float32Array for a tensor from the queue, or an array. */
export function valuesOf(input: unknown): readonly unknown[] {
  if (input instanceof Float32Array) return Array.from(input);
  return Array.isArray(input) ? input : [];
}

/** A classifier manifest over `width` inputs for the given hotkey (the model file is never read by the fake). */
export function fakeManifest(id: string, hotkey: string, width = 4): ExpertManifest {
  return {
    id,
    task: "digits",
    hotkey,
    runner: "classifier",
    model: {
      path: `/nonexistent/${id}.onnx`,
      sha256: "0".repeat(64),
      inputs: [{ name: "x", type: "float32", dims: [null, width] }],
      outputs: [{ name: "probs", type: "float32", dims: [null, 10] }],
    },
    description: "",
  };
}
