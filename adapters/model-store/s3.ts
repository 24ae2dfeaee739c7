import { createHash } from "node:crypto";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DIRECTORY_KEY, modelKey } from "../../core/experts/directory.ts";
import type { ModelStore } from "../../core/ports/model-store.ts";

/**
 * The model store on S3. Keys: `models/<sha256>.onnx` and `directory/experts.json`. Readers (API, workers, the
 * directory follower) need only s3:GetObject; writers s3:PutObject (HeadObject is authorised by GetObject; without
 * s3:ListBucket a missing key answers 403 instead of 404, so `has` treats both as absent). `put` is one conditional
 * write, so a writer that may not read models (the API's upload confirm) needs no read grant.
 */
export class S3ModelStore implements ModelStore {
  readonly location: string;
  /** The directory as last read, with its ETag: a re-read of an unchanged directory is a 304 without a body. */
  private directory: { etag: string; text: string } | null = null;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.location = `s3://${bucket}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const hash = createHash("sha256").update(bytes);
    const sha256 = hash.copy().digest("hex");
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: modelKey(sha256),
          Body: bytes,
          ContentType: "application/octet-stream",
          // S3 checks the upload against this digest and refuses a corrupted body.
          ChecksumSHA256: hash.digest("base64"),
          // Content-addressed: a key that exists already holds these bytes (readers verify), so it is never rewritten
          // (no new version) and no HeadObject, hence no read grant, is needed first.
          IfNoneMatch: "*",
        }),
      );
    } catch (error) {
      // 412: the model is there; 409: a concurrent put of the same key won the race.
      if (!isStatus(error, 412) && !isStatus(error, 409)) throw error;
    }
    return sha256;
  }

  async get(sha256: string): Promise<Uint8Array | null> {
    return this.getObject(modelKey(sha256));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: modelKey(sha256) }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async size(sha256: string): Promise<number | null> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: modelKey(sha256) }));
      return head.ContentLength ?? null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * Conditional on the last ETag read: the API, the settler, the workers and the directory follower poll this every
   * few seconds, and an unchanged directory then costs a 304 with no body.
   */
  async readDirectory(): Promise<string | null> {
    const last = this.directory;
    try {
      const out = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: DIRECTORY_KEY, ...(last ? { IfNoneMatch: last.etag } : {}) }),
      );
      if (!out.Body) return null;
      const text = await out.Body.transformToString("utf8");
      this.directory = out.ETag ? { etag: out.ETag, text } : null;
      return text;
    } catch (error) {
      if (last && isStatus(error, 304)) return last.text;
      if (isMissing(error)) {
        this.directory = null;
        return null;
      }
      throw error;
    }
  }

  async writeDirectory(json: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: DIRECTORY_KEY,
        Body: json,
        ContentType: "application/json",
        // Readers poll it: they must see a new publish on their next poll, not a cached copy.
        CacheControl: "no-cache",
      }),
    );
  }

  private async getObject(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) return null;
      return await out.Body.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}

function isStatus(error: unknown, status: number): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "$metadata" in error &&
    typeof error.$metadata === "object" &&
    error.$metadata !== null &&
    (error.$metadata as { httpStatusCode?: number }).httpStatusCode === status
  );
}

/** A missing key: 404, or 403 where the role lacks s3:ListBucket (S3 then hides absence). */
export function isMissing(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const name = "name" in error ? String(error.name) : "";
  const status =
    "$metadata" in error && typeof error.$metadata === "object" && error.$metadata !== null
      ? (error.$metadata as { httpStatusCode?: number }).httpStatusCode
      : undefined;
  return name === "NoSuchKey" || name === "NotFound" || status === 404 || (name === "Forbidden" && status === 403);
}
