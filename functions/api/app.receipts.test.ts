import { describe, expect, it } from "vitest";
import { inputDigest } from "../../core/jobs/job-input.ts";
import { digitInput, harness } from "./testing/harness.ts";

/** Issue 13 item 6: /v1/receipts/verify reads one unambiguous document, and a receipt binds the input. */
describe("POST /v1/receipts/verify", () => {
  async function receiptAndApp() {
    const h = await harness();
    const key = await h.fundedKey(100_000);
    const stop = h.startWorkers();
    const res = await key.client.infer("digits", digitInput(), { k: 2, waitSeconds: 10 });
    await stop();
    if (!res.ok || res.status !== 200) throw new Error("infer");
    const data = res.data as { receipt: { payload: Record<string, unknown> }; output: unknown };
    const verify = (body: string) =>
      h.app.request("/v1/receipts/verify", { method: "POST", headers: { "content-type": "application/json" }, body });
    return { data, verify };
  }

  it("refuses duplicate keys anywhere in the body instead of verifying the last one", async () => {
    const { data, verify } = await receiptAndApp();
    const text = JSON.stringify({ receipt: data.receipt, output: data.output });
    const ok = await verify(text);
    expect(await ok.json()).toMatchObject({ valid: true });
    const cost = `"cost":${data.receipt.payload.cost}`;
    expect(text).toContain(cost);
    const doubled = await verify(text.replace(cost, `"cost":1,${cost}`));
    expect(doubled.status).toBe(400);
    expect(await doubled.json()).toMatchObject({ code: "invalid_request" });
    const twoOutputs = await verify(text.replace('"output":', '"output":{"probs":[1]},"output":'));
    expect(twoOutputs.status).toBe(400);
  });

  it("answers 400, not 500, to a body nested deeper than the strict parser scans", async () => {
    const h = await harness();
    const deep = `{"receipt":{},"output":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const res = await h.app.request("/v1/receipts/verify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: deep,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_request" });
  });

  it("says a receipt with a field the gateway did not sign is malformed", async () => {
    const { data, verify } = await receiptAndApp();
    const extra = { ...data.receipt, payload: { ...data.receipt.payload, discount: 100 } };
    const res = await verify(JSON.stringify({ receipt: extra }));
    expect(await res.json()).toMatchObject({ valid: false, reason: "malformed" });
  });

  it("binds the digest of the input the experts ran", async () => {
    const { data } = await receiptAndApp();
    expect(data.receipt.payload).toMatchObject({ v: 2, inputSha256: inputDigest(digitInput().pixels) });
  });
});
