import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import type { Signer } from "../ports/signer.ts";
import { canonicalJson } from "./canonical-json.ts";
import { outputDigest, type ReceiptPayload, signReceipt, verifyReceipt } from "./receipt.ts";

let gateway: Signer;
let other: Signer;
beforeAll(async () => {
  await identityReady();
  gateway = signerFromUri("//GatewayReceiptTest");
  other = signerFromUri("//Mallory");
});

const payload = (output: unknown): ReceiptPayload => ({
  v: 1,
  requestId: "req_1",
  keyId: "key_1",
  task: "digits",
  experts: [{ uid: 3, hotkey: "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", gate: 0.5 }],
  cost: 2000,
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
