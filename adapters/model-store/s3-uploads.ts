import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  type ModelUploads,
  type PendingUpload,
  type PresignedUpload,
  UploadTooLargeError,
} from "../../core/ports/model-uploads.ts";
import { isMissing } from "./s3.ts";

/** Prefix of pending uploads; infra/models.ts expires it after a day, the API role may only touch these keys. */
export const UPLOADS_PREFIX = "uploads/";
/** Long enough to PUT a model over a slow link, short enough that a leaked URL is soon useless. */
export const UPLOAD_URL_TTL_S = 900;

/** User metadata naming the hotkey that asked for the URL (signed: the PUT cannot name another). */
const OWNER_META = "hotkey";

export const uploadKey = (sha256: string) => `${UPLOADS_PREFIX}${sha256}.onnx`;

/**
 * Pending model uploads in the model bucket. The presigned PUT signs Content-Length and x-amz-checksum-sha256 as
 * headers (not hoisted into the query), so S3 refuses a PUT of any other length or bytes (BadDigest) and the URL
 * cannot be reused for another model.
 */
export class S3ModelUploads implements ModelUploads {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly now: () => number = Date.now,
  ) {}

  async presign(sha256: string, size: number, owner: string): Promise<PresignedUpload> {
    const checksum = Buffer.from(sha256, "hex").toString("base64");
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: uploadKey(sha256),
      ContentLength: size,
      ContentType: "application/octet-stream",
      ChecksumSHA256: checksum,
      Metadata: { [OWNER_META]: owner },
    });
    const signed = new Set(["content-length", "content-type", "x-amz-checksum-sha256", `x-amz-meta-${OWNER_META}`]);
    const url = await getSignedUrl(this.s3, command, {
      expiresIn: UPLOAD_URL_TTL_S,
      signableHeaders: signed,
      unhoistableHeaders: signed,
    });
    return {
      url,
      method: "PUT",
      headers: {
        "content-length": String(size),
        "content-type": "application/octet-stream",
        "x-amz-checksum-sha256": checksum,
        [`x-amz-meta-${OWNER_META}`]: owner,
      },
      expiresAt: this.now() + UPLOAD_URL_TTL_S * 1000,
    };
  }

  async read(sha256: string, maxBytes: number): Promise<PendingUpload | null> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: uploadKey(sha256) }));
      if (!out.Body) return null;
      if ((out.ContentLength ?? 0) > maxBytes) {
        out.Body.transformToWebStream().cancel();
        throw new UploadTooLargeError(`the upload exceeds ${maxBytes} bytes`);
      }
      return { bytes: await out.Body.transformToByteArray(), owner: out.Metadata?.[OWNER_META] ?? "" };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async discard(sha256: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: uploadKey(sha256) }));
  }
}
