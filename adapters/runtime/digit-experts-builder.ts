import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { DIGIT_EXPERT_RECIPES, type DigitExpertRecipe } from "../../core/experts/digit-experts.ts";
import { trainInitialDigitGate } from "../../core/experts/digit-gate.ts";
import { ExpertManifest } from "../../core/experts/manifest.ts";
import { type Mlp, predict } from "../../core/experts/train/mlp.ts";
import { DIGITS_MODEL_CONTRACT } from "../../core/tasks/digits.ts";
import { type DigitDataset, type DigitSplit, splitDigits } from "../../core/tasks/digits-data.ts";
import { readDigitGate, writeDigitGate } from "./digit-gate-file.ts";
import { type TrainingPool, trainDigitRecipes } from "./digit-train-pool.ts";
import { demoHotkey, manifestModelPath, manifestPath, writeManifest } from "./manifest-store.ts";
import { loadMnist } from "./mnist-loader.ts";
import { mlpToOnnx } from "./onnx-writer.ts";
import { REPO_ROOT, sha256Hex } from "./paths.ts";

/** Seed of the demo market: split and experts. The validator must use the same one to find the hidden rows. */
export const DEFAULT_EXPERT_SEED = 42;
/** Bump when a recipe, the trainer or the writer changes, so that `ensureExperts` rebuilds stale files. */
export const DIGIT_BUILD_VERSION = 3;
export const DIGIT_BUILD_STAMP = "digits-build.json";

export interface DigitBuildProgress {
  id: string;
  /** 1-based position of this expert and the number of experts. */
  index: number;
  total: number;
  phase: "training" | "writing" | "done";
}

export interface BuildDigitExpertsOptions {
  outDir: string;
  seed?: number;
  onProgress?: (p: DigitBuildProgress) => void;
  /** Base for the relative model paths written into manifests (default: the repository root). */
  rootDir?: string;
  /** Threads that train the recipes (default: one per core, at most 4; 1 trains on this thread). */
  threads?: number;
}

export interface DigitExpertBuild {
  manifests: ExpertManifest[];
  /** The trained weights (copies share their original's), for tests and reports. */
  models: ReadonlyMap<string, Mlp>;
  data: DigitDataset;
  split: DigitSplit;
}

/** Trains the digit experts and writes `${outDir}/${id}.onnx` + `${id}.manifest.json`; returns the manifests. */
export async function buildDigitExperts(opts: BuildDigitExpertsOptions): Promise<ExpertManifest[]> {
  return (await buildDigitExpertsDetailed(opts)).manifests;
}

export async function buildDigitExpertsDetailed(opts: BuildDigitExpertsOptions): Promise<DigitExpertBuild> {
  const seed = opts.seed ?? DEFAULT_EXPERT_SEED;
  const rootDir = opts.rootDir ?? REPO_ROOT;
  await mkdir(opts.outDir, { recursive: true });
  await removeRetiredExperts(opts.outDir);
  const data = await loadMnist();
  const split = splitDigits(data.labels.length, seed);
  const pool = trainDigitRecipes(DIGIT_EXPERT_RECIPES.filter(isTrained), data, split, seed, opts.threads);
  try {
    return await writeDigitBuild(opts, pool.models, data, split, seed, rootDir);
  } finally {
    pool.stop();
  }
}

async function writeDigitBuild(
  opts: BuildDigitExpertsOptions,
  trained: ReadonlyMap<string, Promise<Mlp>>,
  data: DigitDataset,
  split: DigitSplit,
  seed: number,
  rootDir: string,
): Promise<DigitExpertBuild> {
  const models = new Map<string, Mlp>();
  const files = new Map<string, string>();
  const manifests: ExpertManifest[] = [];
  const total = DIGIT_EXPERT_RECIPES.length;
  for (const [i, recipe] of DIGIT_EXPERT_RECIPES.entries()) {
    const progress = (phase: DigitBuildProgress["phase"]): void =>
      opts.onProgress?.({ id: recipe.id, index: i + 1, total, phase });
    const file = join(opts.outDir, `${recipe.id}.onnx`);
    if (recipe.kind === "copy") {
      const original = files.get(recipe.of);
      const model = models.get(recipe.of);
      if (!original || !model)
        throw new Error(`digit expert ${recipe.id} copies ${recipe.of}, which is not built before it`);
      progress("writing");
      await copyFile(original, file);
      models.set(recipe.id, model);
    } else {
      progress("training");
      const model = await trainedModel(trained, recipe.id);
      models.set(recipe.id, model);
      progress("writing");
      await writeFile(file, digitExpertOnnx(recipe.id, model, seed));
    }
    files.set(recipe.id, file);
    const sha256 = sha256Hex(new Uint8Array(await readFile(file)));
    manifests.push(await writeDigitManifest(opts.outDir, recipe, file, sha256, rootDir));
    progress("done");
  }
  // The gate is trained here, before any market serves these experts, so that routing is good from the first query.
  const initial = trainInitialDigitGate(
    manifests.map((m) => {
      const model = models.get(m.id);
      if (!model) throw new Error(`no weights for ${m.id}`);
      return { id: m.id, hotkey: m.hotkey, modelHash: m.model.sha256, predict: (x) => predict(model, x) };
    }),
    data,
    split.routerTrain,
    { seed },
  );
  await writeDigitGate(opts.outDir, initial, DIGIT_BUILD_VERSION, seed);
  await writeFile(
    join(opts.outDir, DIGIT_BUILD_STAMP),
    `${JSON.stringify({ version: DIGIT_BUILD_VERSION, seed, experts: Object.fromEntries(manifests.map((m) => [m.id, m.model.sha256])) }, null, 2)}\n`,
  );
  return { manifests, models, data, split };
}

const isTrained = (r: DigitExpertRecipe): r is Exclude<DigitExpertRecipe, { kind: "copy" }> => r.kind !== "copy";

async function trainedModel(trained: ReadonlyMap<string, Promise<Mlp>>, id: string): Promise<Mlp> {
  const model = trained.get(id);
  if (!model) throw new Error(`digit expert ${id} was not sent for training`);
  return model;
}

function digitExpertOnnx(id: string, model: Mlp, seed: number): Uint8Array {
  return mlpToOnnx(model, {
    metadata: { expert: id, task: "digits", seed: String(seed), build: String(DIGIT_BUILD_VERSION) },
  });
}

async function writeDigitManifest(
  outDir: string,
  recipe: DigitExpertRecipe,
  file: string,
  sha256: string,
  rootDir: string,
): Promise<ExpertManifest> {
  const manifest: ExpertManifest = {
    id: recipe.id,
    task: "digits",
    ...(await demoHotkey(recipe.id)),
    runner: "classifier",
    model: {
      path: manifestModelPath(file, rootDir),
      sha256,
      inputs: DIGITS_MODEL_CONTRACT.inputs,
      outputs: DIGITS_MODEL_CONTRACT.outputs,
    },
    description: recipe.description,
  };
  await writeManifest(outDir, manifest);
  return manifest;
}

/**
 * Rebuilds only the digit experts whose model file changed or whose model or manifest is missing, when the rest of
 * an earlier build of this version and seed is there (its stamp and its gate readable), and returns their ids. Each
 * expert trains from a seed of its own, so a rebuilt model comes out byte-identical to what the stamp recorded, and
 * the gate trained beside the original build still describes it: a start after one deleted file takes seconds, not
 * a whole build. Returns null, writing nothing, when a repair cannot stand in for a whole build: no usable stamp or
 * gate, or a rebuilt model that differs from the stamp (another trainer made that build).
 */
export async function repairDigitExperts(opts: BuildDigitExpertsOptions): Promise<string[] | null> {
  const seed = opts.seed ?? DEFAULT_EXPERT_SEED;
  const rootDir = opts.rootDir ?? REPO_ROOT;
  const state = await digitBuildState(opts.outDir, seed);
  if (!state) return null;
  const { recorded, staleModels, staleManifests } = state;
  // Everything is made and checked in memory first, so that a repair that cannot work leaves the folder as it was.
  const made = new Map<string, Uint8Array>();
  const toTrain = staleModels.filter(isTrained);
  let pool: TrainingPool | undefined;
  if (toTrain.length > 0) {
    const data = await loadMnist();
    pool = trainDigitRecipes(toTrain, data, splitDigits(data.labels.length, seed), seed, opts.threads);
  }
  try {
    for (const recipe of staleModels) {
      let bytes: Uint8Array;
      if (recipe.kind === "copy") {
        const original = made.get(recipe.of) ?? (await readFile(join(opts.outDir, `${recipe.of}.onnx`)));
        bytes = new Uint8Array(original);
      } else {
        bytes = digitExpertOnnx(recipe.id, await trainedModel(pool?.models ?? new Map(), recipe.id), seed);
      }
      if (sha256Hex(bytes) !== recorded[recipe.id]) return null;
      made.set(recipe.id, bytes);
    }
  } finally {
    pool?.stop();
  }
  for (const recipe of staleModels) {
    const file = join(opts.outDir, `${recipe.id}.onnx`);
    const bytes = made.get(recipe.id);
    if (!bytes) continue;
    await writeFile(file, bytes);
    await writeDigitManifest(opts.outDir, recipe, file, sha256Hex(bytes), rootDir);
  }
  for (const recipe of staleManifests) {
    const file = join(opts.outDir, `${recipe.id}.onnx`);
    await writeDigitManifest(opts.outDir, recipe, file, recorded[recipe.id] ?? "", rootDir);
  }
  const repaired = new Set([...staleModels, ...staleManifests].map((r) => r.id));
  return DIGIT_EXPERT_RECIPES.map((r) => r.id).filter((id) => repaired.has(id));
}

export interface DigitBuildState {
  /** The stamp's sha256 of each expert's model. */
  readonly recorded: Readonly<Record<string, string>>;
  /** Recipes whose model file is missing or not the stamp's. */
  readonly staleModels: readonly DigitExpertRecipe[];
  /** Recipes whose model is intact but whose manifest is missing or does not describe it. */
  readonly staleManifests: readonly DigitExpertRecipe[];
}

/**
 * What an earlier build in `dir` left: null when there is no whole build of this version and seed to keep (no
 * readable stamp or gate, or one of another build); else what must be made again. A fresh folder has nothing stale.
 */
export async function digitBuildState(dir: string, seed: number): Promise<DigitBuildState | null> {
  const stampText = await readFile(join(dir, DIGIT_BUILD_STAMP), "utf8").catch(() => null);
  const stamp = stampText === null ? null : FullBuildStamp.safeParse(safeJson(stampText));
  if (!stamp?.success || stamp.data.version !== DIGIT_BUILD_VERSION || stamp.data.seed !== seed) return null;
  const recorded = stamp.data.experts;
  const gate = await readDigitGate(dir);
  const ids = DIGIT_EXPERT_RECIPES.map((r) => r.id);
  if (!gate || gate.build !== DIGIT_BUILD_VERSION || gate.seed !== seed) return null;
  if (gate.experts.length !== ids.length || gate.experts.some((e, i) => e.id !== ids[i])) return null;
  if (ids.some((id) => recorded[id] === undefined)) return null;
  const staleModels: DigitExpertRecipe[] = [];
  const staleManifests: DigitExpertRecipe[] = [];
  for (const recipe of DIGIT_EXPERT_RECIPES) {
    const sha = recorded[recipe.id] ?? "";
    const bytes = await readFile(join(dir, `${recipe.id}.onnx`)).catch(() => null);
    if (bytes === null || sha256Hex(new Uint8Array(bytes)) !== sha) staleModels.push(recipe);
    else if (!(await digitManifestMatches(dir, recipe.id, sha))) staleManifests.push(recipe);
  }
  return { recorded, staleModels, staleManifests };
}

/**
 * True when `${id}.manifest.json` in `dir` is a valid manifest of the digit expert `id` naming model `sha256` (a
 * manifest that only exists, e.g. empty after a crash mid-write, would drop the expert from the market at boot).
 */
async function digitManifestMatches(dir: string, id: string, sha256: string): Promise<boolean> {
  const text = await readFile(manifestPath(dir, id), "utf8").catch(() => null);
  if (text === null) return false;
  const manifest = ExpertManifest.safeParse(safeJson(text));
  return manifest.success && manifest.data.id === id && manifest.data.model.sha256 === sha256;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const BuildStamp = z.object({ experts: z.record(z.string(), z.string()) });
const FullBuildStamp = BuildStamp.extend({ version: z.number(), seed: z.number() });

/**
 * Deletes the model and manifest of every expert an earlier build in `dir` made for a recipe that no longer exists
 * (e.g. `top-half` before version 2), so that the market does not go on serving a retired expert next to the new
 * roster. Only a model still byte-identical to what that build wrote is removed: a file someone replaced is theirs.
 */
async function removeRetiredExperts(dir: string): Promise<void> {
  const text = await readFile(join(dir, DIGIT_BUILD_STAMP), "utf8").catch(() => null);
  if (text === null) return;
  let previous: Record<string, string>;
  try {
    previous = BuildStamp.parse(JSON.parse(text)).experts;
  } catch {
    return;
  }
  const current = new Set(DIGIT_EXPERT_RECIPES.map((r) => r.id));
  for (const [id, sha] of Object.entries(previous)) {
    if (current.has(id)) continue;
    const file = join(dir, `${id}.onnx`);
    const bytes = await readFile(file).catch(() => null);
    if (bytes === null || sha256Hex(new Uint8Array(bytes)) !== sha) continue;
    await rm(manifestPath(dir, id), { force: true });
    await rm(file, { force: true });
  }
}
