import type { ExpertManifest } from "../../core/experts/manifest.ts";

/** What the inference thread is started with: the onnxruntime adapter's options that can cross a thread. */
export interface ThreadSettings {
  readonly preferCuda?: boolean;
  readonly rootDir?: string;
  readonly intraOpThreads?: number;
}

/** Worker -> inference thread. `model` is the worker's number for a loaded expert. */
export type ThreadRequest =
  | { readonly t: "load"; readonly id: number; readonly model: number; readonly manifest: ExpertManifest }
  | { readonly t: "run"; readonly id: number; readonly model: number; readonly inputs: readonly unknown[] }
  | { readonly t: "close"; readonly id: number; readonly model: number }
  /** How many models the thread holds (answered like the others). */
  | { readonly t: "count"; readonly id: number }
  /** End the thread (from its own JavaScript, so never in the middle of a native call); no answer. */
  | { readonly t: "quit" };

/** The requests the thread answers (all but `quit`). */
export type AnsweredRequest = Exclude<ThreadRequest, { readonly t: "quit" }>;

/** Inference thread -> worker. */
export type ThreadReply =
  | { readonly t: "done"; readonly id: number; readonly value: unknown }
  | { readonly t: "failed"; readonly id: number; readonly name: string; readonly message: string }
  | { readonly t: "log"; readonly line: string };
