import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signerFromUri } from "../../adapters/identity/sr25519.ts";
import { FolderModelStore } from "../../adapters/model-store/folder.ts";
import { signEpistulaBytes } from "../../core/epistula/epistula.ts";
import { epistulaToHeaders } from "../../core/epistula/headers.ts";
import type { Signer } from "../../core/ports/signer.ts";
import { DIGITS_MODEL_CONTRACT } from "../../core/tasks/digits.ts";
import { createApp } from "./app.ts";
import type { MinerDeps } from "./deps.ts";
import { memoryDeps } from "./testing/memory-deps.ts";

let dir: string;
let app: ReturnType<typeof createApp>;
let miner: Signer;
let checks = 0;
const MAX = 4096;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "models-route-"));
  const kit = await memoryDeps();
  miner = signerFromUri("//registered-miner");
  const miners: MinerDeps = {
    store: new FolderModelStore(dir),
    contractOf: (task) => (task === "digits" ? DIGITS_MODEL_CONTRACT : undefined),
    // Stand-in for the child-process loader: "bad" bytes fail the contract as the real check reports it.
    checkModel: async (bytes) => {
      checks++;
      return bytes[0] === 0x42
        ? { ok: false, detail: 'model: input tensor "x" is float32[?,100]; expected float32[?,784]' }
        : { ok: true };
    },
    uidOf: async (hotkey) => (hotkey === miner.address ? 7 : null),
    status: async () => null,
    maxModelBytes: MAX,
  };
  app = createApp({ ...kit.deps, miners });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function upload(
  bytes: Uint8Array<ArrayBuffer>,
  signer: Signer,
  opts: { task?: string; headers?: Record<string, string> } = {},
) {
  return app.request(`/v1/models?task=${opts.task ?? "digits"}`, {
    method: "POST",
    body: bytes,
    headers: {
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
      ...epistulaToHeaders(signEpistulaBytes(signer, bytes, "")),
      ...opts.headers,
    },
  });
}

const stored = async () => (await readdir(join(dir, "models")).catch(() => [])).sort();

describe("POST /v1/models", () => {
  it("stores a registered hotkey's signed model by sha256", async () => {
    const res = await upload(new Uint8Array([1, 2, 3, 4]), miner);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { sha256: string; size: number; uid: number };
    expect(body).toMatchObject({ size: 4, uid: 7 });
    expect(await stored()).toEqual([`${body.sha256}.onnx`]);
  });

  it("refuses, with stable codes and nothing stored: over the cap (before reading), unregistered, forged, wrong tensors", async () => {
    const before = await stored();
    const checksBefore = checks;
    const big = await upload(new Uint8Array(MAX + 1), miner);
    expect(big.status).toBe(413);
    expect(((await big.json()) as { code: string }).code).toBe("payload_too_large");
    // A declared size under the cap with more bytes behind it (possible where no HTTP parser enforces it) is refused.
    const lying = await upload(new Uint8Array(MAX + 100), miner, { headers: { "content-length": "10" } });
    expect(lying.status).toBe(413);

    const stranger = await upload(new Uint8Array([9, 9]), signerFromUri("//stranger"));
    expect(stranger.status).toBe(403);
    expect(((await stranger.json()) as { code: string }).code).toBe("not_registered");

    const bytes = new Uint8Array([5, 6, 7]);
    const forged = {
      ...epistulaToHeaders(signEpistulaBytes(miner, bytes, "")),
      "Epistula-Request-Signature": signEpistulaBytes(signerFromUri("//mallory"), bytes, "").signature,
    };
    const bad = await upload(bytes, miner, { headers: forged });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { code: string }).code).toBe("bad_signature");

    const unsigned = await app.request("/v1/models?task=digits", {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/octet-stream", "content-length": "3" },
    });
    expect(unsigned.status).toBe(401);

    const wrong = await upload(new Uint8Array([0x42, 1]), miner);
    expect(wrong.status).toBe(422);
    const problem = (await wrong.json()) as { code: string; detail: string };
    expect(problem.code).toBe("model_contract");
    expect(problem.detail).toContain('inputs "x" float32[?,784] -> outputs "probs" float32[?,10]');

    const noTask = await upload(bytes, miner, { task: "speech" });
    expect(noTask.status).toBe(400);
    expect(await stored()).toEqual(before);
    // Only the wrong-tensors upload reached the loader: every other refusal came first.
    expect(checks - checksBefore).toBe(1);
  });
});
