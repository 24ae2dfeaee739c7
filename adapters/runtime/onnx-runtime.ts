import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import ort from "onnxruntime-node";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { ExpertModel, ExpertRuntime } from "../../core/ports/runtime.ts";
import { FRAME_SAMPLES } from "../../core/tasks/speech-frames.ts";
import { type BatchRunner, classifierRunner } from "./classifier-runner.ts";
import { checkModelContract, type ModelTensorInfo } from "./model-contract.ts";
import { REPO_ROOT, resolveModelPath, sha256Hex } from "./paths.ts";
import { sileroRunner } from "./silero-runner.ts";

/** Threads per session unless told otherwise (OnnxRuntimeOptions.intraOpThreads). */
export const DEFAULT_INTRA_OP_THREADS = 1;

export interface OnnxRuntimeOptions {
  /** Try the CUDA execution provider first (default true); CPU is the fallback either way. */
  preferCuda?: boolean;
  /** Receives the one provider line per process and nothing secret. */
  log?: (msg: string) => void;
  /** Base of relative model paths in manifests (default: the repository root). */
  rootDir?: string;
  /**
   * Threads one session may run its operators on (ORT's intra-op pool, the calling thread included). Default
   * DEFAULT_INTRA_OP_THREADS (1).
   * ORT's own default is one per physical core, and its pool threads spin after every run: with a session per
   * expert, that spinning took about a third of the local market's CPU under load (issue 17, bench/RESULTS.md).
   * 0 = ORT's default; more than 1 pays off only for a large model on a CPU host with cores to spare.
   */
  intraOpThreads?: number;
}

export class ModelIntegrityError extends Error {
  override readonly name = "ModelIntegrityError";
}

// Process-wide: whether CUDA failed once (don't pay the failed load again) and whether the provider was announced.
let cudaFailure: string | undefined;
let announced = false;

async function createSession(
  bytes: Uint8Array,
  preferCuda: boolean,
  intraOpThreads: number,
  log: (msg: string) => void,
): Promise<{ session: ort.InferenceSession; provider: "cuda" | "cpu" }> {
  // ORT reads 0 as "its default"; leaving the option out does the same.
  const threads = intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {};
  if (preferCuda && cudaFailure === undefined) cudaFailure = await missingCudaProvider();
  if (preferCuda && cudaFailure === undefined) {
    // ORT prints the failed CUDA library load to stderr in red even though we handle it; on a CPU machine that line
    // would look like a crash on every start, so the attempt runs with ORT's own logging at "fatal".
    const level = ort.env.logLevel;
    ort.env.logLevel = "fatal";
    try {
      // Requesting ['cuda','cpu'] throws when the CUDA provider library is absent (it does not silently fall back).
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ["cuda", "cpu"],
        logSeverityLevel: 4,
        ...threads,
      });
      announce(log, "onnxruntime: execution provider cuda");
      return { session, provider: "cuda" };
    } catch (error) {
      cudaFailure = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.slice(0, 160) ?? "unknown";
    } finally {
      ort.env.logLevel = level;
    }
  }
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"], ...threads });
  announce(
    log,
    `onnxruntime: execution provider cpu${preferCuda && cudaFailure ? ` (CUDA unavailable: ${cudaFailure})` : ""}`,
  );
  return { session, provider: "cpu" };
}

/**
 * Why CUDA cannot load, when that is certain without trying: the npm tarball ships the CUDA provider library only
 * when its install script fetched it. Once ORT's environment is up, a failed attempt prints a red error to stderr
 * that the log level no longer silences, so skipping the sure failure keeps CPU machines' logs clean.
 */
async function missingCudaProvider(): Promise<string | undefined> {
  try {
    const bin = join(dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json")), "bin");
    const files = await readdir(bin, { recursive: true });
    return files.some((f) => f.includes("onnxruntime_providers_cuda"))
      ? undefined
      : "CUDA provider library not installed";
  } catch {
    return undefined; // unknown layout: let the real attempt decide
  }
}

function announce(log: (msg: string) => void, line: string): void {
  if (announced) return;
  announced = true;
  log(line);
}

function metadata(list: readonly ort.InferenceSession.ValueMetadata[]): ModelTensorInfo[] {
  return list.map((m) =>
    m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false },
  );
}

/** ExpertRuntime on onnxruntime-node: sha256 check, CUDA-then-CPU, tensor contract check, one warm-up run. */
export function createOnnxRuntime(opts: OnnxRuntimeOptions = {}): ExpertRuntime {
  const preferCuda = opts.preferCuda ?? true;
  const log = opts.log ?? ((msg: string) => process.stderr.write(`${msg}\n`));
  const rootDir = opts.rootDir ?? REPO_ROOT;
  const intraOpThreads = opts.intraOpThreads ?? DEFAULT_INTRA_OP_THREADS;
  return {
    async load(manifest: ExpertManifest): Promise<ExpertModel> {
      const path = resolveModelPath(manifest.model.path, rootDir);
      const bytes = new Uint8Array(await readFile(path));
      const actual = sha256Hex(bytes);
      if (actual !== manifest.model.sha256) {
        throw new ModelIntegrityError(
          `expert ${manifest.id}: model file ${path} has sha256 ${actual}, manifest expects ${manifest.model.sha256}`,
        );
      }
      // The verified bytes are what gets loaded, so the file cannot change between the check and the load.
      const { session, provider } = await createSession(bytes, preferCuda, intraOpThreads, log);
      try {
        checkModelContract(
          `expert ${manifest.id} (${path})`,
          manifest.model,
          metadata(session.inputMetadata),
          metadata(session.outputMetadata),
        );
        const runner: BatchRunner =
          manifest.runner === "classifier" ? classifierRunner(session, manifest) : sileroRunner(session, manifest);
        await warmUp(runner, manifest);
        return {
          manifest,
          provider,
          runBatch: (inputs) => runner.run(inputs),
          close: () => session.release(),
        };
      } catch (error) {
        await session.release();
        throw error;
      }
    },
  };
}

/** One call on silence so the first real query does not pay for kernel selection and allocation. */
async function warmUp(runner: BatchRunner, manifest: ExpertManifest): Promise<void> {
  const width = manifest.runner === "classifier" ? manifest.model.inputs[0]?.dims[1] : FRAME_SAMPLES;
  await runner.run([new Array<number>(typeof width === "number" ? width : FRAME_SAMPLES).fill(0)]);
}
