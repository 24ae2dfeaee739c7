import { beforeAll, describe, expect, it } from "vitest";
import { identityReady, signerFromUri, sr25519Verifier } from "../adapters/identity/sr25519.ts";
import { verifySignedAnswer } from "../core/jobs/answer-batch.ts";
import type { Signer } from "../core/ports/signer.ts";
import { AnswerSigner } from "./answer-signer.ts";

const NOW = 1_767_225_600_000;

function countingKey(): { key: Signer; count: () => number } {
  const inner = signerFromUri("//test//serving");
  let n = 0;
  return {
    key: {
      address: inner.address,
      publicKey: inner.publicKey,
      sign: (m) => {
        n++;
        return inner.sign(m);
      },
    },
    count: () => n,
  };
}

describe("AnswerSigner (one signature per batch, issue 17)", () => {
  beforeAll(identityReady);

  it("signs the answers asked in one turn once, and each verifies with its own proof", async () => {
    const { key, count } = countingKey();
    const sizes: number[] = [];
    const signer = new AnswerSigner(
      key,
      () => NOW,
      (size) => sizes.push(size),
    );
    const bodies = Array.from({ length: 7 }, (_, i) => `{"jobId":"j${i}"}`);
    const signed = await Promise.all(bodies.map((b) => signer.sign(b, "gw")));
    expect(count()).toBe(1);
    expect(sizes).toEqual([7]);
    signed.forEach((s, i) => {
      expect(s.proof).toMatchObject({ index: i, count: 7 });
      const verdict = verifySignedAnswer(sr25519Verifier, bodies[i] ?? "", s.signature, s.proof, {
        now: NOW,
        expectedSigner: key.address,
        signedFor: "gw",
      });
      expect(verdict).toEqual({ ok: true });
    });
  });

  it("signs separately the answers of later turns, and shares one leaf for the same body asked twice", async () => {
    const { key, count } = countingKey();
    const signer = new AnswerSigner(key, () => NOW);
    const [a, b] = await Promise.all([signer.sign("same", "gw"), signer.sign("same", "gw")]);
    expect(a).toEqual(b);
    expect(a?.proof).toEqual({ index: 0, count: 1, path: [] });
    await signer.sign("later", "gw");
    expect(count()).toBe(2);
    // Answers for two receivers in one turn: one batch (one signature) each, each bound to its receiver.
    const [paid, validation] = await Promise.all([signer.sign("p", "gw"), signer.sign("v", "val")]);
    expect(count()).toBe(4);
    expect([paid?.signature.signedFor, validation?.signature.signedFor]).toEqual(["gw", "val"]);
  });

  it("fails every waiting answer of a batch whose signing throws, and signs the next batch", async () => {
    let fail = true;
    const inner = signerFromUri("//test//serving");
    const key: Signer = {
      address: inner.address,
      publicKey: inner.publicKey,
      sign: (m) => {
        if (fail) throw new Error("key unavailable");
        return inner.sign(m);
      },
    };
    const signer = new AnswerSigner(key, () => NOW);
    const results = await Promise.allSettled([signer.sign("x", "gw"), signer.sign("y", "gw")]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    await expect(signer.sign("x", "gw")).resolves.toMatchObject({ proof: { index: 0, count: 1 } });
  });
});
