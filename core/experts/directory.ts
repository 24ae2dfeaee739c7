import { z } from "zod";
import { ExpertManifest } from "./manifest.ts";

/**
 * The expert directory: which hotkey serves which model (by sha256) for which task. It is data the API, the
 * validator and the workers read at run time from the model store, so a new expert or a new model reaches a
 * deployed market without rebuilding a function or an image. Entries are manifests whose `model.path` is the
 * model's key in the store; they never carry a hotkey secret (workers get those from their own secret).
 */
export const DIRECTORY_VERSION = 1;

// Unknown fields are dropped, not refused: a reader keeps working when a newer publisher adds one.
export const DirectoryEntry = ExpertManifest.omit({ hotkeyUri: true });
export type DirectoryEntry = z.infer<typeof DirectoryEntry>;

export const ExpertDirectoryDocument = z
  .object({
    version: z.literal(DIRECTORY_VERSION),
    /** ISO time of the publish; for operators, not used by readers. */
    updatedAt: z.string().min(1),
    experts: z.array(DirectoryEntry),
    /**
     * The first committer of each model digest seen on chain (issue 15: the one paid; a later committer of the same
     * digest is a copy). Kept here so that precedence survives a restart even after the original moved on to
     * another model (the chain keeps only each hotkey's latest commitment).
     */
    firstCommitters: z
      .array(
        z.object({
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          uid: z.number().int().min(0).max(65535),
          hotkey: z.string().min(1).max(64),
          block: z.number().int().min(0),
        }),
      )
      .max(100_000)
      .optional(),
  })
  .superRefine((doc, ctx) => {
    const ids = new Set<string>();
    const hotkeys = new Set<string>();
    doc.experts.forEach((e, i) => {
      // One hotkey serving two models would make "which model answered" ambiguous for scoring and receipts.
      if (ids.has(e.id)) ctx.addIssue({ code: "custom", path: ["experts", i, "id"], message: `duplicate id ${e.id}` });
      if (hotkeys.has(e.hotkey))
        ctx.addIssue({ code: "custom", path: ["experts", i, "hotkey"], message: `duplicate hotkey ${e.hotkey}` });
      if (e.model.path !== modelKey(e.model.sha256))
        ctx.addIssue({
          code: "custom",
          path: ["experts", i, "model", "path"],
          message: `must be the model's store key ${modelKey(e.model.sha256)}`,
        });
      ids.add(e.id);
      hotkeys.add(e.hotkey);
    });
  });
export type ExpertDirectoryDocument = z.infer<typeof ExpertDirectoryDocument>;

const SHA256 = /^[0-9a-f]{64}$/;

/** Where a model lives in the store: content-addressed, so a key never changes meaning. */
export function modelKey(sha256: string): string {
  if (!SHA256.test(sha256)) throw new Error(`not a sha256 digest: ${sha256}`);
  return `models/${sha256}.onnx`;
}

/** Where the directory lives in the store (one JSON object, replaced whole on publish). */
export const DIRECTORY_KEY = "directory/experts.json";

/**
 * The directory for a set of manifests: secrets dropped, paths replaced by store keys, sorted by id. Throws (with
 * zod's issues) on duplicates, so a bad publish never replaces a good directory.
 */
export function directoryFromManifests(
  manifests: readonly ExpertManifest[],
  updatedAt: string,
): ExpertDirectoryDocument {
  const experts = [...manifests]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map(({ hotkeyUri: _dropped, ...m }) => ({ ...m, model: { ...m.model, path: modelKey(m.model.sha256) } }));
  return ExpertDirectoryDocument.parse({ version: DIRECTORY_VERSION, updatedAt, experts });
}
