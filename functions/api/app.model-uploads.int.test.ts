import { createHash } from "node:crypto";
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Client, emulatorClientOptions } from "../../adapters/aws/clients.ts";
import { signerFromUri } from "../../adapters/identity/sr25519.ts";
import { S3ModelStore } from "../../adapters/model-store/s3.ts";
import { S3ModelUploads } from "../../adapters/model-store/s3-uploads.ts";
import { checkOnnxGraphContract } from "../../adapters/runtime/onnx-graph-contract.ts";
import { mlpToOnnx } from "../../adapters/runtime/onnx-writer.ts";
import { signEpistulaBytes } from "../../core/epistula/epistula.ts";
import { epistulaToHeaders } from "../../core/epistula/headers.ts";
import { initMlp, roundToFloat32 } from "../../core/experts/train/mlp.ts";
import type { Signer } from "../../core/ports/signer.ts";
import { DIGITS_MODEL_CONTRACT } from "../../core/tasks/digits.ts";
import { mulberry32 } from "../../core/tasks/prng.ts";
import { type Emulators, startEmulators } from "../../stacks/ephemeral/emulators.ts";
import { createApp } from "./app.ts";
import { memoryDeps } from "./testing/memory-deps.ts";

// The cloud upload path end to end against fauxqs' S3: real sr25519 signatures, real presigned URLs, the real graph
// check on real ONNX bytes. fauxqs checks neither presigned signatures nor x-amz-checksum-sha256, so a wrong-bytes PUT
// lands here (S3 would answer BadDigest); the confirm's own digest check is what refuses it.
const BUCKET = "uploads-route-test";
const MAX = 64 * 1024;
let emulators: Emulators;
let s3: ReturnType<typeof createS3Client>;
let app: ReturnType<typeof createApp>;
const miner = signerFromUri("//cloud-miner");
const other = signerFromUri("//other-registered-miner");
const stranger = signerFromUri("//not-registered");
const model = new Uint8Array(mlpToOnnx(roundToFloat32(initMlp([784, 16, 10], mulberry32(5)))));
const wrongTensors = new Uint8Array(mlpToOnnx(roundToFloat32(initMlp([100, 8, 10], mulberry32(5)))));
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  emulators = await startEmulators();
  s3 = createS3Client(emulatorClientOptions(emulators.sqsEndpoint));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const kit = await memoryDeps();
  app = createApp({
    ...kit.deps,
    miners: {
      store: new S3ModelStore(s3, BUCKET),
      uploads: new S3ModelUploads(s3, BUCKET),
      contractOf: (task) => (task === "digits" ? DIGITS_MODEL_CONTRACT : undefined),
      checkModel: async (bytes, contract) => checkOnnxGraphContract(bytes, contract),
      uidOf: async (hotkey) => (hotkey === miner.address ? 3 : hotkey === other.address ? 4 : null),
      status: async () => null,
      maxModelBytes: MAX,
    },
  });
});
afterAll(async () => {
  s3?.destroy();
  await emulators?.stop();
});

function signed(path: string, body: unknown, signer: Signer) {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return app.request(path, {
    method: "POST",
    body: bytes,
    headers: { "content-type": "application/json", ...epistulaToHeaders(signEpistulaBytes(signer, bytes, "")) },
  });
}

interface Offer {
  upload: { url: string; method: string; headers: Record<string, string> };
  confirm: string;
}
const ask = (bytes: Uint8Array, signer = miner, size = bytes.length) =>
  signed("/v1/models/uploads", { task: "digits", sha256: sha(bytes), size }, signer);
const confirm = (bytes: Uint8Array, signer = miner, task = "digits") =>
  signed(`/v1/models/uploads/${sha(bytes)}/confirm`, { task, sha256: sha(bytes) }, signer);
const code = async (res: Response) => ((await res.json()) as { code: string }).code;
const keys = async () =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key).sort();

describe("POST /v1/models/uploads + confirm (S3)", () => {
  it("presigns, takes the PUT, checks the graph on confirm, stores by sha256 and drops the upload", async () => {
    const res = await ask(model);
    expect(res.status).toBe(201);
    const offer = (await res.json()) as Offer;
    expect(offer.confirm).toBe(`/v1/models/uploads/${sha(model)}/confirm`);
    const put = await fetch(offer.upload.url, { method: "PUT", headers: offer.upload.headers, body: model });
    expect(put.status).toBe(200);
    const done = await confirm(model);
    expect(done.status).toBe(201);
    expect(await done.json()).toMatchObject({ sha256: sha(model), size: model.length, uid: 3 });
    expect(await keys()).toEqual([`models/${sha(model)}.onnx`]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `models/${sha(model)}.onnx` }));
    expect(head.ContentLength).toBe(model.length);
  });

  it("refuses with stable codes and changes nothing: unsigned, forged, unregistered, over the cap, no such task", async () => {
    const before = await keys();
    const body = new TextEncoder().encode(JSON.stringify({ task: "digits", sha256: sha(model), size: 10 }));
    expect(await code(await app.request("/v1/models/uploads", { method: "POST", body }))).toBe("unauthorized");
    const forged = epistulaToHeaders(signEpistulaBytes(miner, new TextEncoder().encode("other"), ""));
    expect(await code(await app.request("/v1/models/uploads", { method: "POST", body, headers: forged }))).toBe(
      "bad_signature",
    );
    expect(await code(await ask(model, stranger))).toBe("not_registered");
    const big = await ask(model, miner, MAX + 1);
    expect(big.status).toBe(413);
    expect(await code(big)).toBe("payload_too_large");
    expect(await code(await signed("/v1/models/uploads", { task: "speech", sha256: sha(model), size: 9 }, miner))).toBe(
      "invalid_request",
    );
    expect(await keys()).toEqual(before);
  });

  it("refuses a confirm without an upload, by another hotkey, of other bytes, or of the wrong tensors", async () => {
    const before = await keys();
    const fresh = new Uint8Array(model);
    fresh[fresh.length - 1] = (fresh[fresh.length - 1] ?? 0) ^ 1;
    expect(await code(await confirm(fresh))).toBe("not_found");

    // Other bytes PUT to a URL presigned for `fresh` (S3 refuses them with BadDigest; the stand-in stores them).
    const offer = (await (await ask(fresh)).json()) as Offer;
    const tampered = new Uint8Array(fresh);
    tampered[100] = (tampered[100] ?? 0) ^ 1;
    await fetch(offer.upload.url, { method: "PUT", headers: offer.upload.headers, body: tampered });
    expect(await code(await confirm(fresh, other))).toBe("not_found");
    const mismatch = await confirm(fresh);
    expect(mismatch.status).toBe(400);
    expect(((await mismatch.json()) as { detail: string }).detail).toMatch(/hash to [0-9a-f]{64}, not/);

    const wrong = (await (await ask(wrongTensors)).json()) as Offer;
    await fetch(wrong.upload.url, { method: "PUT", headers: wrong.upload.headers, body: wrongTensors });
    const refused = await confirm(wrongTensors);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      code: "model_contract",
      detail: expect.stringMatching(/input tensor "x" is float32\[batch,100\]; expected float32\[\?,784\]/),
    });
    expect((await keys()).filter((k) => k?.startsWith("models/"))).toEqual(before);
  });
});
