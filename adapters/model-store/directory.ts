import { directoryFromManifests, ExpertDirectoryDocument } from "../../core/experts/directory.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";

export class DirectoryError extends Error {
  override readonly name = "DirectoryError";
}

/** The published directory, parsed; null when nothing was published yet. A corrupt one throws (never "no experts"). */
export async function readDirectory(store: ModelStore): Promise<ExpertDirectoryDocument | null> {
  const text = await store.readDirectory();
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DirectoryError(`${store.location}: the expert directory is not JSON (${String(error)})`);
  }
  const parsed = ExpertDirectoryDocument.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DirectoryError(
      `${store.location}: invalid expert directory at ${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`,
    );
  }
  return parsed.data;
}

/**
 * The directory's experts, re-read at most every `ttlMs` (a Lambda container routes every query through it; the
 * store is read once per interval, not once per query). A failed read keeps serving the last good listing.
 */
export function cachedDirectory(
  store: ModelStore,
  ttlMs: number,
  now: () => number = Date.now,
): () => Promise<ExpertManifest[]> {
  let cached: { at: number; experts: ExpertManifest[] } | null = null;
  let loading: Promise<ExpertManifest[]> | null = null;
  return async () => {
    if (cached && now() - cached.at < ttlMs) return cached.experts;
    loading ??= readDirectory(store)
      .then((doc) => {
        cached = { at: now(), experts: doc?.experts ?? [] };
        return cached.experts;
      })
      .catch((error: unknown) => {
        if (cached) return cached.experts;
        throw error;
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  };
}

export interface PublishedExpert {
  readonly id: string;
  readonly sha256: string;
  /** false when the store already held the model (nothing uploaded). */
  readonly uploaded: boolean;
}

/**
 * Uploads every manifest's model (read with `readModel`, checked against the manifest's digest) and then replaces
 * the directory with these manifests. Models go first, so a reader never sees a directory naming a missing model.
 */
export async function publishExperts(
  store: ModelStore,
  manifests: readonly ExpertManifest[],
  readModel: (manifest: ExpertManifest) => Promise<Uint8Array>,
  now: () => Date = () => new Date(),
): Promise<PublishedExpert[]> {
  const doc = directoryFromManifests(manifests, now().toISOString());
  const out: PublishedExpert[] = [];
  for (const manifest of manifests) {
    const present = await store.has(manifest.model.sha256);
    if (!present) {
      const sha256 = await store.put(await readModel(manifest));
      if (sha256 !== manifest.model.sha256)
        throw new DirectoryError(
          `expert ${manifest.id}: its model file has sha256 ${sha256}, the manifest says ${manifest.model.sha256}`,
        );
    }
    out.push({ id: manifest.id, sha256: manifest.model.sha256, uploaded: !present });
  }
  await store.writeDirectory(`${JSON.stringify(doc, null, 2)}\n`);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
