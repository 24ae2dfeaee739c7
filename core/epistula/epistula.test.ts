// Real sr25519 keys through the identity adapter: the point is that our message bytes verify with substrate's scheme.
import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import type { Signer } from "../ports/signer.ts";
import { epistulaMessage, signEpistula, verifyEpistula } from "./epistula.ts";
import { epistulaFromHeaders, epistulaToHeaders } from "./headers.ts";
import { EpistulaReplayCache } from "./replay-cache.ts";

let alice: Signer;
let bob: Signer;
const NOW = 1_760_000_000_000;
const BODY = JSON.stringify({ jobId: "r1:3", task: "digits", uid: 3, input: [0, 0.5, 1] });

beforeAll(async () => {
  await identityReady();
  alice = signerFromUri("//Alice");
  bob = signerFromUri("//Bob");
});

describe("epistulaMessage", () => {
  it("joins the lowercase sha256 hex of the body, uuid, timestamp and receiver with dots", () => {
    const empty = epistulaMessage("", "u", "1", "");
    expect(empty).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.u.1.");
    expect(epistulaMessage("abc", "u", "1", "5F")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.u.1.5F",
    );
  });
});

describe("signEpistula / verifyEpistula", () => {
  it("a signature verifies for the exact body, signer and receiver", () => {
    const sig = signEpistula(alice, BODY, bob.address, { now: NOW });
    expect(sig.signedBy).toBe(alice.address);
    expect(sig.timestamp).toBe(String(NOW));
    expect(sig.signature).toMatch(/^0x[0-9a-f]{128}$/);
    const result = verifyEpistula(sr25519Verifier, BODY, sig, {
      now: NOW + 100,
      expectedSigner: alice.address,
      signedFor: bob.address,
    });
    expect(result).toEqual({ ok: true });
  });

  it("uses a fresh uuid v4 per signature unless one is given", () => {
    const a = signEpistula(alice, BODY, "", { now: NOW });
    const b = signEpistula(alice, BODY, "", { now: NOW });
    expect(a.uuid).not.toBe(b.uuid);
    expect(signEpistula(alice, BODY, "", { uuid: "0b7c6f49-6f43-4c1e-8d0c-7f2f3b1a9e11" }).uuid).toBe(
      "0b7c6f49-6f43-4c1e-8d0c-7f2f3b1a9e11",
    );
  });

  it("rejects a changed body, a changed field and a foreign signature as bad_signature", () => {
    const sig = signEpistula(alice, BODY, bob.address, { now: NOW });
    const opts = { now: NOW };
    expect(verifyEpistula(sr25519Verifier, `${BODY} `, sig, opts)).toEqual({ ok: false, reason: "bad_signature" });
    expect(verifyEpistula(sr25519Verifier, BODY, { ...sig, timestamp: String(NOW + 1) }, opts)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyEpistula(sr25519Verifier, BODY, { ...sig, signedFor: "" }, opts)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    // Claiming to be Bob with Alice's signature.
    expect(verifyEpistula(sr25519Verifier, BODY, { ...sig, signedBy: bob.address }, opts)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("rejects a malformed signature object without throwing", () => {
    const sig = signEpistula(alice, BODY, "", { now: NOW });
    expect(verifyEpistula(sr25519Verifier, BODY, { ...sig, signature: "0x12" }, { now: NOW })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(verifyEpistula(sr25519Verifier, BODY, { ...sig, signedBy: "x".repeat(48) }, { now: NOW })).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("checks signer and receiver when asked", () => {
    const sig = signEpistula(alice, BODY, bob.address, { now: NOW });
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW, expectedSigner: bob.address })).toEqual({
      ok: false,
      reason: "wrong_signer",
    });
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW, signedFor: alice.address })).toEqual({
      ok: false,
      reason: "wrong_recipient",
    });
  });

  it("enforces the freshness window: 8 s back and 2 s ahead by default, configurable", () => {
    const sig = signEpistula(alice, BODY, "", { now: NOW });
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW + 8000 }).ok).toBe(true);
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW + 8001 })).toEqual({ ok: false, reason: "stale" });
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW - 2000 }).ok).toBe(true);
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW - 2001 })).toEqual({ ok: false, reason: "future" });
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW + 60_000, maxAgeMs: 120_000 }).ok).toBe(true);
    expect(verifyEpistula(sr25519Verifier, BODY, sig, { now: NOW - 5000, maxFutureMs: 10_000 }).ok).toBe(true);
  });
});

describe("headers", () => {
  it("round-trips through HTTP headers, case-insensitively, with Signed-For optional", () => {
    const sig = signEpistula(alice, BODY, "", { now: NOW });
    const lower = new Map(Object.entries(epistulaToHeaders(sig)).map(([k, v]) => [k.toLowerCase(), v]));
    lower.delete("epistula-signed-for");
    const back = epistulaFromHeaders((name) => lower.get(name.toLowerCase()));
    expect(back).toEqual(sig);
    expect(back && verifyEpistula(sr25519Verifier, BODY, back, { now: NOW }).ok).toBe(true);
    lower.delete("epistula-uuid");
    expect(epistulaFromHeaders((name) => lower.get(name.toLowerCase()))).toBeNull();
  });
});

describe("EpistulaReplayCache", () => {
  it("accepts a uuid once within the window and again after it", () => {
    const cache = new EpistulaReplayCache({ windowMs: 10_000 });
    expect(cache.accept("a", NOW)).toBe(true);
    expect(cache.accept("a", NOW + 9_999)).toBe(false);
    expect(cache.accept("b", NOW + 1)).toBe(true);
    expect(cache.accept("a", NOW + 10_000)).toBe(true);
  });

  it("forgets expired entries and stays within its bound", () => {
    const cache = new EpistulaReplayCache({ windowMs: 1000, maxEntries: 3 });
    for (const id of ["a", "b", "c", "d"]) cache.accept(id, NOW);
    expect(cache.size).toBe(3);
    expect(cache.accept("a", NOW)).toBe(true);
    cache.accept("z", NOW + 5000);
    expect(cache.size).toBe(1);
  });
});
