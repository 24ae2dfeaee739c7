/**
 * ModelUploads port: where a miner's model waits between a presigned upload and the API's confirm (the cloud's
 * `uploads/` prefix of the model bucket, expired by a lifecycle rule). Nothing there is served: only a confirmed
 * model, checked against its task's contract, is copied into the ModelStore.
 */
export interface ModelUploads {
  /**
   * A URL that accepts exactly `size` bytes whose sha256 is `sha256` (the store itself refuses other bytes), with the
   * headers the PUT must carry, until `expiresAt` (ms since epoch). `owner` (the hotkey that asked) travels with the
   * object, so only that hotkey can confirm it.
   */
  presign(sha256: string, size: number, owner: string): Promise<PresignedUpload>;
  /** The uploaded bytes and their owner, or null when nothing waits under that digest; refuses to read past `maxBytes`. */
  read(sha256: string, maxBytes: number): Promise<PendingUpload | null>;
  /** Drops the pending upload (idempotent). */
  discard(sha256: string): Promise<void>;
}

export interface PresignedUpload {
  readonly url: string;
  readonly method: "PUT";
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: number;
}

export interface PendingUpload {
  readonly bytes: Uint8Array;
  readonly owner: string;
}

export class UploadTooLargeError extends Error {
  override readonly name = "UploadTooLargeError";
}
