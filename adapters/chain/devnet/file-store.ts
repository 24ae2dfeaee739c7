/**
 * A devnet backed by a file: resumes from it when present, saves atomically every N blocks and on stop, so
 * `npm start` continues where it stopped.
 */
import { readFile } from "node:fs/promises";
import type { Devnet } from "./devnet.ts";
import { writeFileAtomic } from "./persistence.ts";

export interface FileBackedOptions {
  readonly path: string;
  /** Save after every this many blocks (default 10). */
  readonly saveEveryBlocks?: number;
  /** Called with a save error instead of crashing the process (default: write to stderr). */
  readonly onError?: (error: unknown) => void;
}

export interface FileBackedDevnet {
  readonly devnet: Devnet;
  /** True when the state came from the file. */
  readonly resumed: boolean;
  save(): Promise<void>;
  /** Stops the block timer and saves. */
  stop(): Promise<void>;
}

/** Reads the snapshot if the file exists; a missing file is a fresh start, a corrupt one is an error. */
export async function readSnapshot(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return null;
    throw error;
  }
}

export async function openFileBackedDevnet(
  options: FileBackedOptions,
  fresh: () => Devnet,
  restore: (json: string) => Devnet,
): Promise<FileBackedDevnet> {
  const json = await readSnapshot(options.path);
  const devnet = json === null ? fresh() : restore(json);
  const every = Math.max(1, options.saveEveryBlocks ?? 10);
  const onError =
    options.onError ??
    ((error: unknown) =>
      process.stderr.write(`devnet save failed: ${error instanceof Error ? error.message : String(error)}\n`));
  // Saves are serialised so an older snapshot can never overwrite a newer one.
  let chain: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    const snapshot = devnet.snapshot();
    chain = chain.then(() => writeFileAtomic(options.path, snapshot)).catch(onError);
    return chain;
  };
  const unsubscribe = devnet.onBlock((block) => {
    if (block % every === 0) void save();
  });
  return {
    devnet,
    resumed: json !== null,
    save,
    async stop() {
      unsubscribe();
      devnet.stop();
      await save();
    },
  };
}
