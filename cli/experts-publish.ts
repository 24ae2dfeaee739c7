/**
 * `npm run market -- experts publish [--from <experts dir>] [--only id,id]`: uploads the experts' models to the model
 * store by sha256 and replaces the expert directory with their manifests (hotkey secrets dropped). The store is the
 * S3 bucket MARKET_MODEL_BUCKET (the deployed market: endpoint, region and credentials from the standard AWS
 * settings), else the folder MARKET_MODEL_STORE_DIR, else `${MARKET_DATA_DIR:-.data}/model-store`.
 * `npm run market -- experts directory` prints what is published.
 */
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { publishExperts, readDirectory } from "../adapters/model-store/directory.ts";
import { FolderModelStore } from "../adapters/model-store/folder.ts";
import { modelStoreFromEnv } from "../adapters/model-store/from-env.ts";
import { listManifests } from "../adapters/runtime/manifest-store.ts";
import { resolveModelPath } from "../adapters/runtime/paths.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { ModelStore } from "../core/ports/model-store.ts";
import { dataDirFromEnv, expertsDir } from "./experts.ts";

/** The store the environment names, or the local folder store under the data folder. */
export function operatorStore(env: NodeJS.ProcessEnv = process.env): ModelStore {
  return modelStoreFromEnv(env) ?? new FolderModelStore(join(dataDirFromEnv(env), "model-store"));
}

/** The model bytes a manifest names (its path, absolute or relative to the repository). */
export function readManifestModel(manifest: ExpertManifest): Promise<Uint8Array> {
  return readFile(resolveModelPath(manifest.model.path)).then((b) => new Uint8Array(b));
}

export const PUBLISH_USAGE =
  "usage: npm run market -- experts publish [--from <experts dir>] [--only <id,id>]\n" +
  "       npm run market -- experts directory\n";

/** Where a command writes its lines (process.stdout / stderr, or a test's sink). */
export interface Out {
  write(text: string): unknown;
}

export async function runPublish(
  args: string[],
  out: Out = process.stdout,
  err: Out = process.stderr,
): Promise<number> {
  let values: { from?: string; only?: string };
  try {
    values = parseArgs({ args, options: { from: { type: "string" }, only: { type: "string" } } }).values;
  } catch (error) {
    err.write(`${error instanceof Error ? error.message : String(error)}\n${PUBLISH_USAGE}`);
    return 2;
  }
  const dir = resolve(values.from ?? expertsDir(dataDirFromEnv()));
  const listing = await listManifests(dir);
  for (const r of listing.rejected) err.write(`skipped ${r.file}: ${r.reason}\n`);
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const manifests = only ? listing.manifests.filter((m) => only.includes(m.id)) : listing.manifests;
  const missing = only?.filter((id) => !manifests.some((m) => m.id === id)) ?? [];
  if (missing.length > 0) {
    err.write(`experts publish: no manifest for ${missing.join(", ")} in ${dir}\n`);
    return 1;
  }
  if (manifests.length === 0) {
    err.write(`experts publish: no expert manifests in ${dir}\n`);
    return 1;
  }
  const store = operatorStore();
  const published = await publishExperts(store, manifests, readManifestModel);
  for (const p of published)
    out.write(`${p.id.padEnd(20)} ${p.sha256.slice(0, 12)}… ${p.uploaded ? "uploaded" : "already stored"}\n`);
  out.write(`published a directory of ${published.length} experts to ${store.location}\n`);
  return 0;
}

export async function runDirectory(out: Out = process.stdout, err: Out = process.stderr): Promise<number> {
  const store = operatorStore();
  const doc = await readDirectory(store);
  if (!doc) {
    err.write(`no expert directory published in ${store.location}\n`);
    return 1;
  }
  out.write(`${store.location} (published ${doc.updatedAt})\n`);
  for (const e of doc.experts) out.write(`${e.id.padEnd(20)} ${e.task.padEnd(8)} ${e.hotkey} ${e.model.sha256}\n`);
  return 0;
}
