import { PNG } from "pngjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mediaDecoders } from "../../adapters/runtime/decoders.ts";
import { bigDimensionsBomb, interlacedBomb } from "../../adapters/runtime/testing/png-bombs.ts";
import { bytesToBase64 } from "../../core/tasks/base64.ts";
import { createTaskRegistry } from "../../core/tasks/registry.ts";
import { taskCatalog } from "../market/catalog.ts";
import { DIGITS_PRICE } from "./testing/digits-catalog.ts";
import { digitInput, harness } from "./testing/harness.ts";

/** The market's real catalog (PNG decoding included), on the in-memory harness. */
const realTasks = () => taskCatalog(createTaskRegistry(mediaDecoders));

function digitPng(): Uint8Array {
  const image = new PNG({ width: 28, height: 28 });
  for (let i = 0; i < 28 * 28; i++) image.data.set([i % 7 === 0 ? 255 : 0, 0, 0, 255], i * 4);
  return new Uint8Array(PNG.sync.write(image));
}

async function postPng(
  app: { request: (p: string, init: RequestInit) => Response | Promise<Response> },
  key: string,
  png: Uint8Array,
) {
  const res = await app.request("/v1/tasks/digits/infer", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", prefer: "respond-async" },
    body: JSON.stringify({ input: { png: bytesToBase64(png) }, k: 1 }),
  });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe("decompression bombs and unpaid work (issue 13.1)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("a key with no credits is refused before its 16000x16000 bomb is decoded, and /health answers meanwhile", async () => {
    const h = await harness({ deps: { tasks: realTasks() } });
    const broke = await h.fundedKey(0);
    const bomb = await bigDimensionsBomb();
    const read = vi.spyOn(PNG.sync, "read");
    const started = Date.now();
    const [bombed, health] = await Promise.all([
      postPng(h.app, broke.key, bomb),
      Promise.resolve(h.app.request("/health")).then((r) => r.status),
    ]);
    expect(bombed.status).toBe(402);
    expect(bombed.body.code).toBe("insufficient_credits");
    expect(health).toBe(200);
    expect(read).not.toHaveBeenCalled();
    // Generous: the old decoder spent ~15 s and 1.1 GB on this file.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a paying key's bombs are refused with 400 from the header and the capped inflate, never by pngjs", async () => {
    const h = await harness({ deps: { tasks: realTasks() } });
    const key = await h.fundedKey(100 * DIGITS_PRICE);
    const read = vi.spyOn(PNG.sync, "read");
    const big = await postPng(h.app, key.key, await bigDimensionsBomb());
    expect([big.status, big.type, big.body.code]).toEqual([400, "application/problem+json", "invalid_request"]);
    expect(JSON.stringify(big.body.issues)).toMatch(/16000x16000 out of range/);
    const interlaced = await postPng(h.app, key.key, await interlacedBomb());
    expect([interlaced.status, interlaced.body.code]).toEqual([400, "invalid_request"]);
    expect(JSON.stringify(interlaced.body.issues)).toMatch(/inflates beyond/);
    expect(read).not.toHaveBeenCalled();
    // Nothing was held for the refused queries; a real digit still goes through.
    const fine = await postPng(h.app, key.key, digitPng());
    expect(fine.status).toBe(202);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it("the pre-check lets an Idempotency-Key replay through on an account the first request emptied", async () => {
    const h = await harness();
    const key = await h.fundedKey(DIGITS_PRICE);
    const first = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0, idempotencyKey: "once" });
    expect(first.ok).toBe(true);
    const replay = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0, idempotencyKey: "once" });
    expect(replay.ok && replay.data.id).toBe(first.ok && first.data.id);
    const other = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(!other.ok && other.status).toBe(402);
  });

  it("an account read able to pay skips the pre-check's read until a hold refuses it, then is read again", async () => {
    const h = await harness({ deps: { tasks: realTasks() } });
    const key = await h.fundedKey(2 * DIGITS_PRICE);
    const reads = vi.spyOn(h.deps.ledger, "getAccount");
    for (let i = 0; i < 2; i++) {
      const ok = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
      expect(ok.ok).toBe(true);
    }
    expect(reads).toHaveBeenCalledTimes(1);
    // Drained: the remembered "can pay" lets one query through to the hold, which refuses it with the same code...
    const held = await key.client.infer("digits", digitInput(), { k: 1, waitSeconds: 0 });
    expect(!held.ok && held.problem.code).toBe("insufficient_credits");
    expect(reads).toHaveBeenCalledTimes(1);
    // ...and forgets it: the next one (a bomb) is refused by the pre-check's read, before decoding.
    const read = vi.spyOn(PNG.sync, "read");
    const bombed = await postPng(h.app, key.key, await bigDimensionsBomb());
    expect([bombed.status, bombed.body.code]).toEqual([402, "insufficient_credits"]);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(read).not.toHaveBeenCalled();
  });
});
