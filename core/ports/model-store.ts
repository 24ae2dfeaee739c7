/**
 * ModelStore port: models as content, keyed by their sha256 (an S3 bucket in the cloud, a folder locally), plus the
 * expert directory (core/experts/directory.ts) as one JSON object beside them. The store is not trusted for
 * integrity: readers verify a model's digest before loading it.
 */
export interface ModelStore {
  /** Where the store is, for logs (`s3://bucket`, a folder path). */
  readonly location: string;
  /** Stores `bytes` under their sha256 (skipped when already there) and returns the digest. */
  put(bytes: Uint8Array): Promise<string>;
  /** The stored bytes, or null when no model has that digest. */
  get(sha256: string): Promise<Uint8Array | null>;
  has(sha256: string): Promise<boolean>;
  /** The stored model's size in bytes without reading it (a HEAD), or null when no model has that digest. */
  size(sha256: string): Promise<number | null>;
  /** The directory's JSON text as stored, or null when none was published; callers parse it. */
  readDirectory(): Promise<string | null>;
  /** Replaces the directory in one write (readers see the old or the new one, never a mix). */
  writeDirectory(json: string): Promise<void>;
}
