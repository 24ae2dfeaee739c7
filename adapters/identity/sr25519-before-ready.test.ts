import { Keyring } from "@polkadot/keyring";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { identityReady, SS58_PREFIX, sr25519Verifier } from "./sr25519.ts";

// The wasm is up once per process: "not yet up" (a caller that skipped identityReady) is played by its flag.
const wasm = vi.hoisted(() => ({ up: false }));
vi.mock("@polkadot/wasm-crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("@polkadot/wasm-crypto")>();
  return { ...real, isReady: () => wasm.up && real.isReady() };
});

describe("sr25519 verifier before and after the wasm is up", () => {
  beforeAll(identityReady);

  it("remembers no verdict of the keyring's wider check: once the wasm is up, only sr25519 passes", () => {
    // The keyring's check (before the wasm) also takes ed25519 signatures; the wasm path is sr25519 only.
    const pair = new Keyring({ type: "ed25519", ss58Format: SS58_PREFIX }).addFromUri("//before-ready");
    const message = new TextEncoder().encode("market-answer-batch:v1:2:ef");
    const signature = pair.sign(message);
    expect(sr25519Verifier.verify(message, signature, pair.address)).toBe(true);
    wasm.up = true;
    expect(sr25519Verifier.verify(message, signature, pair.address)).toBe(false);
    // As for an ed25519 signature it never saw before.
    const other = new TextEncoder().encode("market-answer-batch:v1:2:f0");
    expect(sr25519Verifier.verify(other, pair.sign(other), pair.address)).toBe(false);
  });
});
