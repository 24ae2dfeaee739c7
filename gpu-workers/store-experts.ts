import type { Logger } from "../adapters/log/logger.ts";
import type { ModelCache } from "../adapters/model-store/cache.ts";
import { readDirectory } from "../adapters/model-store/directory.ts";
import type { ExpertManifest } from "../core/experts/manifest.ts";
import type { ModelStore } from "../core/ports/model-store.ts";

/**
 * The experts a worker serves when models are content in a store: the published directory, each model downloaded
 * by digest into the local cache (verified), the manifest pointing at the cached file. A model that cannot be
 * fetched leaves only its expert out (reported once per digest and reason); the next poll tries again. A directory
 * that cannot be read throws, and the worker keeps serving what it has.
 */
export function storeManifests(store: ModelStore, cache: ModelCache, logger: Logger): () => Promise<ExpertManifest[]> {
  const reported = new Set<string>();
  return async () => {
    const doc = await readDirectory(store);
    const out: ExpertManifest[] = [];
    for (const entry of doc?.experts ?? []) {
      try {
        const path = await cache.path(entry.model.sha256);
        out.push({ ...entry, model: { ...entry.model, path } });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const key = `${entry.model.sha256}\n${reason}`;
        if (!reported.has(key)) {
          reported.add(key);
          logger.error("expert not served: model unavailable", { expert: entry.id, error: reason });
        }
      }
    }
    return out;
  };
}
