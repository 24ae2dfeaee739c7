import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import type { Signer } from "../ports/signer.ts";
import { canonicalJson } from "./canonical-json.ts";
import { outputDigest, parseReceiptJson, type ReceiptPayload, signReceipt, verifyReceipt } from "./receipt.ts";
import { parseStrictJson } from "./strict-json.ts";

let gateway: Signer;
let other: Signer;
beforeAll(async () => {
  await identityReady();
  gateway = signerFromUri("//GatewayReceiptTest");
  other = signerFromUri("//Mallory");
});

const payload = (output: unknown): ReceiptPayload => ({
  v: 2,
  requestId: "req_1",
  keyId: "key_1",
  task: "digits",
  experts: [{ uid: 3, hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", gate: 0.5 }],
  cost: 2000,
  inputSha256: "ab".repeat(32),
  outputSha256: outputDigest(output),
  time: 1_700_000_000_000,
});

describe("canonical JSON", () => {
  it("is independent of key order and drops undefined fields", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: undefined })).toBe('{"a":[true,null,"x"],"b":1}');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.integer()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(JSON.parse(canonicalJson(obj))).toEqual(obj);
      }),
    );
  });

  it("refuses what JSON cannot carry", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });
});

describe("receipts", () => {
  it("verifies a receipt signed by the gateway and the output it covers", () => {
    const output = { probs: [0.1, 0.9] };
    const r = signReceipt(gateway, payload(output));
    expect(verifyReceipt(sr25519Verifier, r, { expectedSigner: gateway.address, output })).toEqual({ ok: true });
    expect(verifyReceipt(sr25519Verifier, JSON.parse(JSON.stringify(r)))).toEqual({ ok: true });
  });

  it("rejects a changed cost, another output, another signer and garbage", () => {
    const output = { probs: [0.1, 0.9] };
    const r = signReceipt(gateway, payload(output));
    const cheaper = { ...r, payload: { ...r.payload, cost: 1 } };
    expect(verifyReceipt(sr25519Verifier, cheaper)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyReceipt(sr25519Verifier, r, { output: { probs: [0.9, 0.1] } })).toEqual({
      ok: false,
      reason: "output_mismatch",
    });
    const forged = signReceipt(other, payload(output));
    expect(verifyReceipt(sr25519Verifier, forged, { expectedSigner: gateway.address })).toEqual({
      ok: false,
      reason: "wrong_signer",
    });
    const claimed = { ...forged, signedBy: gateway.address };
    expect(verifyReceipt(sr25519Verifier, claimed)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyReceipt(sr25519Verifier, { nope: 1 })).toEqual({ ok: false, reason: "malformed" });
  });
});

describe("one strict reading of a receipt (issue 13 item 6)", () => {
  it("refuses a signed receipt with a field the gateway did not sign, at any level", () => {
    const receipt = signReceipt(gateway, payload({ probs: [1] }));
    expect(verifyReceipt(sr25519Verifier, receipt).ok).toBe(true);
    const extra = [
      { ...receipt, note: "x" },
      { ...receipt, payload: { ...receipt.payload, discount: 1 } },
      { ...receipt, payload: { ...receipt.payload, experts: [{ ...receipt.payload.experts[0], bonus: 1 }] } },
    ];
    for (const r of extra) expect(verifyReceipt(sr25519Verifier, r)).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses duplicate keys, also when spelled with escapes; JSON.parse alone would keep the last one", () => {
    const receipt = signReceipt(gateway, payload({ probs: [1] }));
    const text = JSON.stringify(receipt).replace('"cost":2000', '"cost":1,"cost":2000');
    // The old reading: JSON.parse takes the signed value and the receipt verifies, though a reader saw cost 1.
    expect(verifyReceipt(sr25519Verifier, JSON.parse(text)).ok).toBe(true);
    expect(parseReceiptJson(text)).toEqual({ ok: false, reason: 'duplicate key "cost"' });
    const escaped = JSON.stringify(receipt).replace('"cost":2000', '"co\\u0073t":1,"cost":2000');
    expect(parseStrictJson(escaped)).toMatchObject({ ok: false, reason: "duplicate_key", key: "cost" });
    expect(parseReceiptJson(JSON.stringify(receipt))).toEqual({ ok: true, value: receipt });
  });

  it("reads nested, empty and spaced JSON like JSON.parse when no key repeats", () => {
    const texts = ['{"a":[{"a":1},{"a":2}],"b":{}}', " [ ] ", '{"s":"a\\"b","t":[1, -2.5e3, true, null]}', '""'];
    for (const t of texts) expect(parseStrictJson(t)).toEqual({ ok: true, value: JSON.parse(t) });
    expect(parseStrictJson('{"a":{"b":1,"b":2}}')).toMatchObject({ ok: false, key: "b" });
    expect(parseStrictJson("{")).toMatchObject({ ok: false, reason: "not_json" });
  });

  it("binds the input digest: a receipt whose input digest is changed no longer verifies", () => {
    const receipt = signReceipt(gateway, payload({ probs: [1] }));
    const swapped = { ...receipt, payload: { ...receipt.payload, inputSha256: "cd".repeat(32) } };
    expect(verifyReceipt(sr25519Verifier, swapped)).toEqual({ ok: false, reason: "bad_signature" });
  });
});
