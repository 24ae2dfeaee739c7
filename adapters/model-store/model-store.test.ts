import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DIRECTORY_KEY, directoryFromManifests, modelKey } from "../../core/experts/directory.ts";
import type { ExpertManifest } from "../../core/experts/manifest.ts";
import { ModelCache, ModelDigestError } from "./cache.ts";
import { cachedDirectory, DirectoryError, publishExperts, readDirectory } from "./directory.ts";
import { FolderModelStore } from "./folder.ts";
import { modelStoreFromEnv } from "./from-env.ts";
import { S3ModelStore } from "./s3.ts";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytes = (s: string) => new TextEncoder().encode(s);
const HOTKEY_A = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const HOTKEY_B = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

function manifest(id: string, hotkey: string, model: Uint8Array): ExpertManifest {
  return {
    id,
    task: "digits",
    hotkey,
    // An old manifest that still carries a miner's secret: dropped on read, never published.
    ...({ hotkeyUri: `//secret//${id}` } as object),
    runner: "classifier",
    model: {
      path: `/somewhere/${id}.onnx`,
      sha256: sha(model),
      inputs: [{ name: "x", type: "float32", dims: [null, 784] }],
      outputs: [{ name: "y", type: "float32", dims: [null, 10] }],
    },
    description: "",
  };
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "model-store-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("expert directory", () => {
  it("drops hotkey secrets, keys models by digest and refuses duplicate hotkeys", () => {
    const a = manifest("a", HOTKEY_A, bytes("model a"));
    const doc = directoryFromManifests([a], "2026-01-01T00:00:00Z");
    expect(doc.experts[0]).not.toHaveProperty("hotkeyUri");
    expect(doc.experts[0]?.model.path).toBe(`models/${sha(bytes("model a"))}.onnx`);
    expect(() => directoryFromManifests([a, { ...manifest("b", HOTKEY_A, bytes("b")) }], "t")).toThrow(
      /duplicate hotkey/,
    );
    expect(() => modelKey("../etc/passwd")).toThrow();
  });
});

describe("FolderModelStore + publish + cache", () => {
  it("publishes models by digest, then a directory the cache-backed reader serves from verified files", async () => {
    const store = new FolderModelStore(join(root, "store"));
    const ma = bytes("model a");
    const mb = bytes("model b");
    const models = new Map([
      ["a", ma],
      ["b", mb],
    ]);
    const read = async (m: ExpertManifest) => models.get(m.id) ?? new Uint8Array();
    const first = await publishExperts(store, [manifest("a", HOTKEY_A, ma), manifest("b", HOTKEY_B, mb)], read);
    expect(first.map((p) => p.uploaded)).toEqual([true, true]);
    expect(await store.has(sha(ma))).toBe(true);
    // A second publish uploads nothing: models are content.
    const again = await publishExperts(store, [manifest("a", HOTKEY_A, ma)], read);
    expect(again).toEqual([{ id: "a", sha256: sha(ma), uploaded: false }]);
    const doc = await readDirectory(store);
    expect(doc?.experts.map((e) => e.id)).toEqual(["a"]);

    const cache = new ModelCache(store, join(root, "cache"));
    const path = await cache.path(sha(ma));
    expect(new Uint8Array(await readFile(path))).toEqual(ma);
  });

  it("refuses a manifest whose model file does not match its digest, before touching the directory", async () => {
    const store = new FolderModelStore(join(root, "store"));
    const m = manifest("a", HOTKEY_A, bytes("the real model"));
    await expect(publishExperts(store, [m], async () => bytes("a swapped model"))).rejects.toThrow(/sha256/);
    expect(await store.readDirectory()).toBeNull();
  });

  it("the cache refuses bytes that do not hash to the digest asked for, and heals a corrupted cached file", async () => {
    const store = new FolderModelStore(join(root, "store"));
    const good = bytes("good");
    const digest = await store.put(good);
    // Tamper with the stored object: the store is not trusted.
    await writeFile(join(root, "store", modelKey(digest)), "evil");
    const cache = new ModelCache(store, join(root, "cache"));
    await expect(cache.path(digest)).rejects.toBeInstanceOf(ModelDigestError);
    await writeFile(join(root, "store", modelKey(digest)), good);
    const path = await cache.path(digest);
    await writeFile(path, "corrupted on disk");
    // A new process (a restarted worker) re-verifies what it finds on disk and downloads again.
    const restarted = new ModelCache(store, join(root, "cache"));
    expect(new Uint8Array(await readFile(await restarted.path(digest)))).toEqual(good);
  });

  it("a corrupt directory is an error, not an empty market; the cached reader keeps its last good listing", async () => {
    const store = new FolderModelStore(join(root, "store"));
    await publishExperts(store, [manifest("a", HOTKEY_A, bytes("a"))], async () => bytes("a"));
    let t = 0;
    const experts = cachedDirectory(store, 1000, () => t);
    expect((await experts()).map((e) => e.id)).toEqual(["a"]);
    await writeFile(join(root, "store", DIRECTORY_KEY), "{not json");
    await expect(readDirectory(store)).rejects.toBeInstanceOf(DirectoryError);
    t = 5000;
    expect((await experts()).map((e) => e.id)).toEqual(["a"]);
  });
});

describe("modelStoreFromEnv", () => {
  it("names S3 by MARKET_MODEL_BUCKET, a folder by MARKET_MODEL_STORE_DIR, and rejects a bad bucket name", () => {
    expect(modelStoreFromEnv({ MARKET_MODEL_BUCKET: "market-prod-models", AWS_REGION: "us-east-1" })).toBeInstanceOf(
      S3ModelStore,
    );
    expect(modelStoreFromEnv({ MARKET_MODEL_STORE_DIR: root })).toBeInstanceOf(FolderModelStore);
    expect(modelStoreFromEnv({})).toBeNull();
    expect(() => modelStoreFromEnv({ MARKET_MODEL_BUCKET: "Bad_Bucket" })).toThrow(/MARKET_MODEL_BUCKET/);
  });
});
