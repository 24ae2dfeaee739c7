import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signerFromUri } from "../adapters/identity/sr25519.ts";
import type { ModelStore } from "../core/ports/model-store.ts";
import type { ModelUploads, PendingUpload } from "../core/ports/model-uploads.ts";
import { DIGITS_MODEL_CONTRACT } from "../core/tasks/digits.ts";
import { createApp } from "../functions/api/app.ts";
import type { MinerDeps } from "../functions/api/deps.ts";
import { memoryDeps } from "../functions/api/testing/memory-deps.ts";
import { type Fetch, uploadModel } from "./miner-upload.ts";

// The CLI's choice of route against the real API app; the store and the presigned-URL host are in-memory fakes
// (the S3 side is proven in functions/api/app.model-uploads.int.test.ts).
const miner = signerFromUri("//cli-miner");
const STORE_HOST = "http://uploads.test/";

async function market(withUploads: boolean) {
  const models = new Map<string, Uint8Array>();
  const pending = new Map<string, PendingUpload>();
  const store: ModelStore = {
    location: "memory",
    put: async (bytes) => {
      const sha = createHash("sha256").update(bytes).digest("hex");
      models.set(sha, bytes);
      return sha;
    },
    get: async (sha) => models.get(sha) ?? null,
    has: async (sha) => models.has(sha),
    size: async (sha) => models.get(sha)?.length ?? null,
    readDirectory: async () => null,
    writeDirectory: async () => {},
  };
  const uploads: ModelUploads = {
    presign: async (sha256, size, owner) => ({
      url: `${STORE_HOST}${sha256}?owner=${owner}`,
      method: "PUT",
      headers: { "content-length": String(size) },
      expiresAt: 0,
    }),
    read: async (sha256) => pending.get(sha256) ?? null,
    discard: async (sha256) => {
      pending.delete(sha256);
    },
  };
  const miners: MinerDeps = {
    store,
    contractOf: (task) => (task === "digits" ? DIGITS_MODEL_CONTRACT : undefined),
    checkModel: async (bytes) => (bytes[0] === 0x42 ? { ok: false, detail: "wrong tensors" } : { ok: true }),
    uidOf: async (hotkey) => (hotkey === miner.address ? 2 : null),
    status: async () => null,
    maxModelBytes: 4096,
    ...(withUploads ? { uploads } : {}),
  };
  const app = createApp({ ...(await memoryDeps()).deps, miners });
  const routes: string[] = [];
  const fetch: Fetch = async (url, init) => {
    if (url.startsWith(STORE_HOST)) {
      const u = new URL(url);
      const bytes = new Uint8Array(init.body as Uint8Array);
      pending.set(u.pathname.slice(1), { bytes, owner: u.searchParams.get("owner") ?? "" });
      routes.push("PUT store");
      return new Response(null, { status: 200 });
    }
    routes.push(`${init.method} ${new URL(url).pathname}`);
    return app.request(url, init);
  };
  return { models, pending, routes, fetch };
}

describe("uploadModel", () => {
  const bytes = new Uint8Array([1, 2, 3, 4, 5]);
  const sha = createHash("sha256").update(bytes).digest("hex");

  it("uses the presigned upload and its confirm where the API offers them", async () => {
    const m = await market(true);
    expect(await uploadModel(m.fetch, "http://api.test", miner, "digits", bytes)).toEqual({
      sha256: sha,
      size: 5,
      uid: 2,
    });
    expect(m.routes).toEqual(["POST /v1/models/uploads", "PUT store", `POST /v1/models/uploads/${sha}/confirm`]);
    expect(m.models.get(sha)).toEqual(bytes);
    expect(m.pending.size).toBe(0);
  });

  it("sends the bytes to POST /v1/models where there is no upload route (a local market)", async () => {
    const m = await market(false);
    expect(await uploadModel(m.fetch, "http://api.test", miner, "digits", bytes)).toMatchObject({ sha256: sha });
    expect(m.routes).toEqual(["POST /v1/models/uploads", "POST /v1/models"]);
  });

  it("reports the API's refusal with its code, and stores nothing", async () => {
    const m = await market(true);
    const bad = new Uint8Array([0x42, 1, 2]);
    await expect(uploadModel(m.fetch, "http://api.test", miner, "digits", bad)).rejects.toThrow(
      /upload refused: 422 model_contract: wrong tensors/,
    );
    expect(m.models.size).toBe(0);
  });
});
