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
});
