import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "../../stacks/ephemeral/emulators.ts";
import { createS3Client, emulatorClientOptions } from "../aws/clients.ts";
import { ModelCache, ModelDigestError } from "./cache.ts";
import { S3ModelStore } from "./s3.ts";

// The S3 adapter against fauxqs' S3 (path-style), the emulator the cloud test's worker and functions use.
describe("S3ModelStore", () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(async () => {
    await emulators?.stop();
  });

  it("stores by digest, answers absent keys with null/false, and the cache refuses a tampered object", async () => {
    const s3 = createS3Client(emulatorClientOptions(emulators.sqsEndpoint));
    await s3.send(new CreateBucketCommand({ Bucket: "models-test" }));
    const store = new S3ModelStore(s3, "models-test");
    const bytes = new TextEncoder().encode("an onnx model, honestly");
    const sha = createHash("sha256").update(bytes).digest("hex");
    expect(await store.has(sha)).toBe(false);
    expect(await store.get(sha)).toBeNull();
    expect(await store.readDirectory()).toBeNull();
    expect(await store.size(sha)).toBeNull();
    expect(await store.put(bytes)).toBe(sha);
    // Content-addressed: a second put of the same bytes is a no-op (a conditional write S3 refuses with 412).
    expect(await store.put(bytes)).toBe(sha);
    expect(await store.has(sha)).toBe(true);
    expect(await store.size(sha)).toBe(bytes.length);
    expect(await store.get(sha)).toEqual(bytes);
    await store.writeDirectory('{"version":1}');
    expect(await store.readDirectory()).toBe('{"version":1}');

    // Someone with write access replaces the object: the digest check refuses it.
    await s3.send(new PutObjectCommand({ Bucket: "models-test", Key: `models/${sha}.onnx`, Body: "evil" }));
    const dir = await mkdtemp(join(tmpdir(), "s3-cache-"));
    const cache = new ModelCache(store, dir);
    await expect(cache.path(sha)).rejects.toBeInstanceOf(ModelDigestError);
    await rm(dir, { recursive: true, force: true });
    s3.destroy();
  });

  it("re-reads an unchanged directory with a conditional GET (304, no body) and a changed one in full", async () => {
    const s3 = createS3Client(emulatorClientOptions(emulators.sqsEndpoint));
    await s3.send(new CreateBucketCommand({ Bucket: "directory-test" }));
    const sent: { conditional: boolean; status: number }[] = [];
    // Every GetObject the client sends, whether it was conditional, and the HTTP status it got.
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "GetObjectCommand") return next(args);
        const record = { conditional: (args.input as { IfNoneMatch?: string }).IfNoneMatch !== undefined, status: 0 };
        sent.push(record);
        try {
          const out = await next(args);
          record.status = (out.response as { statusCode?: number }).statusCode ?? 0;
          return out;
        } catch (error) {
          record.status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? -1;
          throw error;
        }
      },
      { step: "initialize" },
    );
    const reader = new S3ModelStore(s3, "directory-test");
    const writer = new S3ModelStore(s3, "directory-test");
    await writer.writeDirectory('{"version":1}');
    expect(await reader.readDirectory()).toBe('{"version":1}');
    expect(await reader.readDirectory()).toBe('{"version":1}');
    await writer.writeDirectory('{"version":2}');
    expect(await reader.readDirectory()).toBe('{"version":2}');
    expect(sent).toEqual([
      { conditional: false, status: 200 },
      { conditional: true, status: 304 },
      { conditional: true, status: 200 },
    ]);
    s3.destroy();
  });
});
