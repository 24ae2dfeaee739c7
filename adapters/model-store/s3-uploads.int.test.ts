import { createHash } from "node:crypto";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "../../stacks/ephemeral/emulators.ts";
import { createS3Client, emulatorClientOptions } from "../aws/clients.ts";
import { S3ModelUploads, uploadKey } from "./s3-uploads.ts";

// Presigned uploads against fauxqs' S3. fauxqs checks neither presigned signatures nor x-amz-checksum-sha256, so
// what this proves is the URL's shape (key, signed headers, expiry) and the read/discard cycle; that S3 refuses other
// bytes is AWS's documented behaviour, and the API's confirm re-checks the digest anyway (model-uploads.int.test.ts).
describe("S3ModelUploads", () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(async () => {
    await emulators?.stop();
  });

  it("presigns a PUT bound to the digest and size, reads it back, refuses other bytes, and discards", async () => {
    const s3 = createS3Client(emulatorClientOptions(emulators.sqsEndpoint));
    await s3.send(new CreateBucketCommand({ Bucket: "uploads-test" }));
    const uploads = new S3ModelUploads(s3, "uploads-test", () => 1_000);
    const bytes = new TextEncoder().encode("an onnx model, honestly");
    const sha = createHash("sha256").update(bytes).digest("hex");
    const put = await uploads.presign(sha, bytes.length, "5Owner");
    const url = new URL(put.url);
    expect(url.pathname).toBe(`/uploads-test/${uploadKey(sha)}`);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-SignedHeaders")?.split(";")).toEqual(
      expect.arrayContaining(["content-length", "host", "x-amz-checksum-sha256", "x-amz-meta-hotkey"]),
    );
    expect(put.expiresAt).toBe(1_000 + 900_000);
    expect(await uploads.read(sha, 1_000)).toBeNull();

    const ok = await fetch(put.url, { method: "PUT", headers: put.headers, body: bytes });
    expect(ok.status).toBe(200);
    expect(await uploads.read(sha, 1_000)).toEqual({ bytes, owner: "5Owner" });
    await expect(uploads.read(sha, 4)).rejects.toThrow(/exceeds 4 bytes/);
    await uploads.discard(sha);
    expect(await uploads.read(sha, 1_000)).toBeNull();
    s3.destroy();
  });
});
