/**
 * `npm run market -- experts publish|directory`: the operator's model store. `experts add` is gone (issue 15): it
 * derived a hotkey the operator held for someone else's model; a miner now keeps its own keys and goes through
 * `market miner wallet create|register|commit`. `addExpert` stays for the operator's own demo experts in tests
 * (a demo key, refused on a real chain), never for a miner.
 */
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import ort from "onnxruntime-node";
import { mediaDecoders } from "../adapters/runtime/decoders.ts";
import { demoHotkey, listManifests, manifestModelPath, writeManifest } from "../adapters/runtime/manifest-store.ts";
import { checkModelContract, type ModelTensorInfo } from "../adapters/runtime/model-contract.ts";
import { sha256Hex } from "../adapters/runtime/paths.ts";
import { ExpertManifest } from "../core/experts/manifest.ts";
import { createTaskRegistry } from "../core/tasks/registry.ts";
import { expertsDir } from "./experts.ts";
import { PUBLISH_USAGE, runDirectory, runPublish } from "./experts-publish.ts";

/** Model files above this are not demo experts; refuse before reading them into memory. */
const MAX_MODEL_BYTES = 200 * 1024 * 1024;

export class AddExpertError extends Error {
  override readonly name = "AddExpertError";
}

/**
 * HOOK for the lead: called after a user expert's files are in place (register its hotkey on the devnet, tell the
 * workers to hot-reload). Hooks run in registration order; a failing hook fails `experts add` with its message.
 */
export type ExpertAddedHook = (manifest: ExpertManifest, ctx: { dataDir: string }) => Promise<void>;
const expertAddedHooks: ExpertAddedHook[] = [];
export function onExpertAdded(hook: ExpertAddedHook): void {
  expertAddedHooks.push(hook);
}

export interface AddExpertOptions {
  dataDir: string;
  task: string;
  modelPath: string;
  /** Expert id (manifest id rules: a-z, 0-9, '-'); default: derived from the file name. */
  id?: string;
}

/**
 * The operator's own demo expert (tests): validates and copies a model into `${dataDir}/experts` under a demo hotkey
 * derived from its id. Not for miners: a miner's model arrives by `market miner commit` under the miner's own key.
 */
export async function addExpert(opts: AddExpertOptions): Promise<ExpertManifest> {
  const task = createTaskRegistry(mediaDecoders).get(opts.task);
  if (!task) throw new AddExpertError(`unknown task "${opts.task}"`);
  if (!task.modelContract)
    throw new AddExpertError(`task "${task.id}" does not accept user models (its experts are fixed)`);
  const id = opts.id ?? idFromFile(opts.modelPath);
  if (!ExpertManifest.shape.id.safeParse(id).success) {
    throw new AddExpertError(
      `invalid expert id "${id}": use 1-63 characters a-z, 0-9 and '-', starting with a letter or digit`,
    );
  }
  const dir = expertsDir(opts.dataDir);
  if ((await listManifests(dir)).manifests.some((m) => m.id === id))
    throw new AddExpertError(`an expert with id "${id}" already exists in ${dir}`);

  const source = resolve(opts.modelPath);
  const size = await stat(source).then(
    (s) => s.size,
    () => -1,
  );
  if (size < 0) throw new AddExpertError(`model file ${source} not found`);
  if (size > MAX_MODEL_BYTES)
    throw new AddExpertError(`model file ${source} is ${size} bytes; the limit is ${MAX_MODEL_BYTES}`);
  const bytes = new Uint8Array(await readFile(source));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ["cpu"] });
  } catch (error) {
    throw new AddExpertError(
      `${source} is not a loadable ONNX model: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
    );
  }
  try {
    const info = (list: readonly ort.InferenceSession.ValueMetadata[]): ModelTensorInfo[] =>
      list.map((m) =>
        m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false },
      );
    checkModelContract(source, task.modelContract, info(session.inputMetadata), info(session.outputMetadata));
  } finally {
    await session.release();
  }

  await mkdir(dir, { recursive: true });
  const target = join(dir, `${id}.onnx`);
  // Write the bytes that were checked, not the file again (it could change in between).
  await writeFile(target, bytes);
  const manifest: ExpertManifest = {
    id,
    task: task.id,
    ...(await demoHotkey(id)),
    runner: task.runner,
    model: {
      path: manifestModelPath(target),
      sha256: sha256Hex(bytes),
      inputs: task.modelContract.inputs,
      outputs: task.modelContract.outputs,
    },
    description: `user model ${basename(source)}`,
  };
  await writeManifest(dir, manifest);
  for (const hook of expertAddedHooks) await hook(manifest, { dataDir: opts.dataDir });
  return manifest;
}

function idFromFile(path: string): string {
  return basename(path)
    .replace(/\.onnx$/i, "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
}

const USAGE = `usage: npm run market -- experts publish|directory\n${PUBLISH_USAGE}`;

/** What `experts add` says now: the miner's path, with the miner's own keys. */
export const ADD_REMOVED = `experts add was removed: a miner keeps its own keys and commits its model on chain:
  npm run market -- miner wallet create --wallet NAME
  npm run market -- miner register --wallet NAME --max-price TAO
  npm run market -- miner commit --wallet NAME --task digits --model FILE.onnx
(see README "For miners")
`;

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "publish") return runPublish(rest);
  if (command === "directory") return runDirectory();
  if (command === "add") {
    process.stderr.write(ADD_REMOVED);
    return 2;
  }
  process.stderr.write(USAGE);
  return 2;
}
