import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { DIRECTORY_KEY, modelKey } from "../../core/experts/directory.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";

/**
 * The model store as a folder (`npm start`: under the data folder), with the same keys as the S3 bucket, so a
 * folder can be synced to the bucket as is (`aws s3 sync <dir> s3://<bucket>`).
 */
export class FolderModelStore implements ModelStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = this.root;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (!(await this.has(sha256))) await this.write(modelKey(sha256), bytes);
    return sha256;
  }

  async get(sha256: string): Promise<Uint8Array | null> {
    return this.read(modelKey(sha256)).then((b) => (b === null ? null : new Uint8Array(b)));
  }

  async has(sha256: string): Promise<boolean> {
    return stat(join(this.root, modelKey(sha256))).then(
      (s) => s.isFile(),
      () => false,
    );
  }

  async size(sha256: string): Promise<number | null> {
    return stat(join(this.root, modelKey(sha256))).then(
      (s) => (s.isFile() ? s.size : null),
      () => null,
    );
  }

  async readDirectory(): Promise<string | null> {
    const bytes = await this.read(DIRECTORY_KEY);
    return bytes === null ? null : bytes.toString("utf8");
  }

  async writeDirectory(json: string): Promise<void> {
    await this.write(DIRECTORY_KEY, new TextEncoder().encode(json));
  }

  private async read(key: string): Promise<Buffer | null> {
    try {
      return await readFile(join(this.root, key));
    } catch (error) {
      if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") return null;
      throw error;
    }
  }

  /** Write then rename: a reader (a worker polling the directory) never sees a half-written file. */
  private async write(key: string, bytes: Uint8Array): Promise<void> {
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomUUID()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  }
}
