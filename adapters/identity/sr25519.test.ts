import { Keyring } from "@polkadot/keyring";
import { signatureVerify } from "@polkadot/util-crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, SS58_PREFIX, signerFromUri, sr25519Verifier } from "./sr25519.ts";

describe("sr25519 signer", () => {
  beforeAll(identityReady);

  it("signs with the keyring's key through wasm: valid for any sr25519 verifier, bound to key and message", () => {
    const uri = "//signer-test//serving";
    const signer = signerFromUri(uri);
    const pair = new Keyring({ type: "sr25519", ss58Format: SS58_PREFIX }).addFromUri(uri);
    expect(signer.address).toBe(pair.address);
    const message = new TextEncoder().encode("market-answer-batch:v1:32:ab");
    const signature = signer.sign(message);
    expect(signature).toHaveLength(64);
    expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(true);
    expect(signatureVerify(message, signature, pair.address).isValid).toBe(true);
    // The keyring's own signature and ours verify alike (sr25519 signatures are randomised, so they differ).
    expect(sr25519Verifier.verify(message, pair.sign(message), signer.address)).toBe(true);
    expect(sr25519Verifier.verify(new TextEncoder().encode("other"), signature, signer.address)).toBe(false);
    expect(sr25519Verifier.verify(message, signature, signerFromUri("//someone-else").address)).toBe(false);
  });

  it("verifies through wasm: refuses a flipped bit, a short signature, a malformed address; never throws", () => {
    const signer = signerFromUri("//signer-test//verify");
    const message = new TextEncoder().encode("a receipt");
    const signature = signer.sign(message);
    expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(true);
    const flipped = Uint8Array.from(signature);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(sr25519Verifier.verify(message, flipped, signer.address)).toBe(false);
    expect(sr25519Verifier.verify(message, signature.subarray(0, 63), signer.address)).toBe(false);
    expect(sr25519Verifier.verify(message, new Uint8Array(64), signer.address)).toBe(false);
    expect(sr25519Verifier.verify(message, signature, "not-an-address")).toBe(false);
    // Cached public keys stay per address: another key's address still refuses.
    expect(sr25519Verifier.verify(message, signature, signerFromUri("//signer-test//other").address)).toBe(false);
    expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(true);
  });

  it("remembers valid signatures only for the same signer and the same message bytes", () => {
    const signer = signerFromUri("//signer-test//remember");
    const message = new TextEncoder().encode("market-answer-batch:v1:2:cd");
    const signature = signer.sign(message);
    for (let i = 0; i < 3; i++) expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(true);
    // A remembered signature does not vouch for other bytes: the caller's array changed after the check, a message
    // of another length, another signer's address.
    message[0] = (message[0] ?? 0) ^ 1;
    expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(false);
    message[0] = (message[0] ?? 0) ^ 1;
    expect(sr25519Verifier.verify(message.subarray(0, message.length - 1), signature, signer.address)).toBe(false);
    expect(sr25519Verifier.verify(message, signature, signerFromUri("//signer-test//else").address)).toBe(false);
    expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(true);
    // Nor does a failure stick: a bad signature fails every time, the good one still passes.
    const bad = Uint8Array.from(signature);
    bad[0] = (bad[0] ?? 0) ^ 1;
    expect([
      sr25519Verifier.verify(message, bad, signer.address),
      sr25519Verifier.verify(message, bad, signer.address),
    ]).toEqual([false, false]);
  });

  it("keeps remembering within its bound: thousands of signatures later, each still verifies correctly", () => {
    const signer = signerFromUri("//signer-test//many");
    const signed = Array.from({ length: 4100 }, (_, i) => {
      const message = new TextEncoder().encode(`batch ${i}`);
      return { message, signature: signer.sign(message) };
    });
    for (const { message, signature } of signed)
      expect(sr25519Verifier.verify(message, signature, signer.address)).toBe(true);
    const first = signed[0];
    if (!first) throw new Error("no signatures");
    expect(sr25519Verifier.verify(first.message, first.signature, signer.address)).toBe(true);
    expect(sr25519Verifier.verify(new TextEncoder().encode("batch 1"), first.signature, signer.address)).toBe(false);
  });
});
