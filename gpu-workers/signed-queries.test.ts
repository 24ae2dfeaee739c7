import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { type QueryFacts, signPaidQuery } from "../core/jobs/paid-job.ts";
import type { EpistulaSignature, JobMessage } from "../core/jobs/schema.ts";
import type { SignatureVerifier, Signer } from "../core/ports/signer.ts";
import { SignedQueries } from "./signed-queries.ts";

const MAX_AGE_MS = 15 * 60_000;
const DIGEST = "ab".repeat(32);
const NOW = 1_800_000_000_000;
let gateway: Signer;
let other: Signer;
let hotkeys: string[];

beforeAll(async () => {
  await identityReady();
  gateway = signerFromUri("//signed-queries//gateway");
  other = signerFromUri("//signed-queries//other");
  hotkeys = [1, 2, 3].map((i) => signerFromUri(`//signed-queries//expert-${i}`).address);
});

const facts = (): QueryFacts & { inputDigest: string } => ({
  requestId: "req_1",
  task: "digits",
  inputDigest: DIGEST,
  createdAt: NOW,
  deadline: NOW + 60_000,
  experts: [
    { uid: 1, hotkey: hotkeys[0] ?? "" },
    { uid: 2, hotkey: hotkeys[1] ?? "" },
  ],
  shadow: [{ uid: 3, hotkey: hotkeys[2] ?? "" }],
});

/** Expert `uid`'s message of the query, as the API sends it (input left out: the digest is given apart). */
function message(uid: number, signer = gateway, change: Partial<JobMessage> = {}): JobMessage {
  const f = facts();
  return {
    v: 1,
    jobId: `${f.requestId}:${uid}`,
    requestId: f.requestId,
    kind: "paid",
    task: f.task,
    uid,
    hotkey: hotkeys[uid - 1] ?? "",
    deadline: f.deadline,
    enqueuedAt: NOW,
    query: signPaidQuery(signer, f, NOW),
    ...change,
  };
}

function counting(): SignatureVerifier & { calls: number } {
  const v = {
    calls: 0,
    verify: (m: Uint8Array, s: Uint8Array, a: string) => {
      v.calls++;
      return sr25519Verifier.verify(m, s, a);
    },
  };
  return v;
}

describe("SignedQueries (issue 17: a paid job checked against its gateway's signature, no read)", () => {
  it("gives the query's facts for the gateway's signature, verifying a query's signature once for its jobs", () => {
    const verifier = counting();
    const queries = new SignedQueries(verifier, gateway.address, MAX_AGE_MS, () => NOW + 1000);
    const first = message(1);
    const check = queries.check(first, DIGEST);
    expect(check).toEqual({ ok: true, facts: facts() });
    // The query's second job carries the same signature: not verified again.
    const second = { ...message(2), query: first.query };
    expect(queries.check(second, DIGEST).ok).toBe(true);
    expect(verifier.calls).toBe(1);
  });

  it("refuses another signer, another input, and any signed fact changed; says when none is carried", () => {
    const queries = new SignedQueries(sr25519Verifier, gateway.address, MAX_AGE_MS, () => NOW + 1000);
    const reason = (m: JobMessage, digest = DIGEST) => {
      const check = queries.check(m, digest);
      return check.ok ? "ok" : check.reason;
    };
    expect(reason(message(1, other))).toBe("wrong_signer");
    expect(reason(message(1), "cd".repeat(32))).toBe("bad_signature");
    const signed = message(1);
    const query = signed.query as NonNullable<JobMessage["query"]>;
    expect(reason({ ...signed, deadline: signed.deadline + 60_000 })).toBe("bad_signature");
    expect(reason({ ...signed, requestId: "req_2" })).toBe("bad_signature");
    expect(reason({ ...signed, task: "speech" })).toBe("bad_signature");
    // An expert added to the routed list (or moved out of the shadow lane) by whoever edits the message.
    expect(reason({ ...signed, query: { ...query, experts: [...query.experts, [3, hotkeys[2] ?? ""]] } })).toBe(
      "bad_signature",
    );
    expect(reason({ ...signed, query: { ...query, createdAt: query.createdAt - 1 } })).toBe("bad_signature");
    const { query: _, ...unsigned } = signed;
    expect(reason(unsigned)).toBe("absent");
    expect(reason({ ...signed, kind: "validation" })).toBe("absent");
    // The tampered ones did not spoil the genuine one.
    expect(reason(signed)).toBe("ok");
  });

  it("refuses a signature older than the window, even one already verified, and one whose time was rewritten", () => {
    let now = NOW + 1000;
    const queries = new SignedQueries(sr25519Verifier, gateway.address, MAX_AGE_MS, () => now);
    const signed = message(1);
    expect(queries.check(signed, DIGEST).ok).toBe(true);
    now = NOW + MAX_AGE_MS + 1;
    expect(queries.check(signed, DIGEST)).toEqual({ ok: false, reason: "stale" });
    // The same signature with its time (or its signer) made fresh: the signature no longer matches it.
    const query = signed.query as NonNullable<JobMessage["query"]>;
    const retimed = (signature: EpistulaSignature) => ({ ...signed, query: { ...query, signature } });
    expect(queries.check(retimed({ ...query.signature, timestamp: String(now) }), DIGEST)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
    expect(queries.check(retimed({ ...query.signature, timestamp: "9999999999999999" }), DIGEST)).toEqual({
      ok: false,
      reason: "future",
    });
    expect(new SignedQueries(sr25519Verifier, gateway.address, MAX_AGE_MS, () => now).check(signed, DIGEST)).toEqual({
      ok: false,
      reason: "stale",
    });
  });
});
