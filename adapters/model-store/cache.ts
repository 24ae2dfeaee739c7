import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ModelStore } from "../../core/ports/model-store.ts";

export class ModelDigestError extends Error {
  override readonly name = "ModelDigestError";
}

/**
 * A local copy of store models, by digest (a worker's disk): `path(sha)` downloads a model once, verifies its
 * sha256 and keeps it. A file found on disk from an earlier process is re-verified once; after that the path is
 * remembered, so the directory poll costs no hashing (the runtime verifies the bytes again whenever it loads them,
 * so a file damaged later is still refused).
 */
export class ModelCache {
  readonly dir: string;
  private readonly pending = new Map<string, Promise<string>>();
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly store: ModelStore,
    dir: string,
  ) {
    this.dir = resolve(dir);
  }

  /** Absolute path of the verified model file; concurrent calls for one digest share one download. */
  path(sha256: string): Promise<string> {
    const known = this.verified.get(sha256);
    if (known !== undefined) return Promise.resolve(known);
    let p = this.pending.get(sha256);
    if (!p) {
      p = this.fetch(sha256)
        .then((path) => {
          this.verified.set(sha256, path);
          return path;
        })
        .finally(() => this.pending.delete(sha256));
      this.pending.set(sha256, p);
    }
    return p;
  }

  private async fetch(sha256: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModelDigestError(`not a sha256 digest: ${sha256}`);
    const file = join(this.dir, `${sha256}.onnx`);
    const cached = await readFile(file).catch(() => null);
    if (cached !== null && digest(cached) === sha256) return file;
    const bytes = await this.store.get(sha256);
    if (bytes === null) throw new ModelDigestError(`model ${sha256} is not in ${this.store.location}`);
    const actual = digest(bytes);
    if (actual !== sha256)
      throw new ModelDigestError(`model ${sha256} from ${this.store.location} has sha256 ${actual}: refused`);
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
    return file;
  }
}

function digest(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
