import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { nodeBytes } from "../../adapters/bytes/node-bytes.ts";
import { identityReady, signerFromUri, sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { answerLeaf, answerTree, rootFromProof, signAnswerBatch, verifySignedAnswer } from "./answer-batch.ts";
import { type AnswerBody, answerBodyText } from "./integrity.ts";

const HOTKEY = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
const NOW = 1_767_225_600_000;

function body(i: number, output: unknown = { probs: [i / 10, 1 - i / 10] }): string {
  const answer: AnswerBody = {
    jobId: `job-${i}`,
    uid: i % 7,
    hotkey: HOTKEY,
    modelSha256: "a".repeat(64),
    inputDigest: "b".repeat(64),
    output,
  };
  return answerBodyText(answer);
}

const bodies = (n: number) => Array.from({ length: n }, (_, i) => body(i));
const bytesHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("answer batch Merkle tree (issue 17)", () => {
  beforeAll(identityReady);

  it("the worker's native SHA-256 builds the same tree as the pure one the readers check with", () => {
    for (const n of [1, 2, 3, 32, 33, 100]) {
      const native = answerTree(bodies(n), nodeBytes);
      const pure = answerTree(bodies(n));
      expect(bytesHex(native.root)).toBe(bytesHex(pure.root));
      expect(native.proofs).toStrictEqual(pure.proofs);
      for (const [i, proof] of native.proofs.entries()) {
        expect(bytesHex(rootFromProof(body(i), proof) ?? new Uint8Array())).toBe(bytesHex(pure.root));
      }
    }
  });

  it("a one-answer batch is a one-leaf tree: root = leaf, empty proof", () => {
    const { root, proofs } = answerTree([body(0)]);
    expect(bytesHex(root)).toBe(bytesHex(answerLeaf(body(0))));
    expect(proofs).toEqual([{ index: 0, count: 1, path: [] }]);
  });

  it("every proof of every batch size leads to the root, with exactly the needed number of hashes", () => {
    for (let n = 1; n <= 33; n++) {
      const all = bodies(n);
      const { root, proofs } = answerTree(all);
      proofs.forEach((proof, i) => {
        expect(proof.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(bytesHex(rootFromProof(all[i] ?? "", proof) ?? new Uint8Array())).toBe(bytesHex(root));
      });
    }
  });

  it("refuses to build a batch with the same body twice, an empty batch", () => {
    expect(() => answerTree([body(1), body(2), body(1)])).toThrow(/same body twice/);
    expect(() => answerTree([])).toThrow(RangeError);
  });

  describe("verification", () => {
    const serving = () => signerFromUri("//test//serving");
    const all = bodies(5);
    const signedOf = () => signAnswerBatch(serving(), all, "", NOW);
    const verify = (text: string, signed: ReturnType<typeof signedOf>[number], proof = signed.proof) =>
      verifySignedAnswer(sr25519Verifier, text, signed.signature, proof, {
        now: NOW,
        expectedSigner: serving().address,
      });

    it("one signature for the whole batch, and each answer verifies with its own proof", () => {
      const signed = signedOf();
      expect(new Set(signed.map((s) => s.signature.signature)).size).toBe(1);
      expect(signed[0]?.signature.signedFor).toBe("");
      signed.forEach((s, i) => {
        expect(verify(all[i] ?? "", s)).toEqual({ ok: true });
      });
    });

    it("refuses a proof for another answer of the batch", () => {
      const signed = signedOf();
      const [first, second] = signed;
      if (!first || !second) throw new Error("two answers");
      expect(verify(all[0] ?? "", first, second.proof).ok).toBe(false);
      expect(verify(all[0] ?? "", first, signed[3]?.proof).ok).toBe(false);
      expect(verify(all[1] ?? "", first).ok).toBe(false);
    });

    it("refuses a tampered output", () => {
      const [first] = signedOf();
      if (!first) throw new Error("one answer");
      expect(verify(body(0, { probs: [0.9, 0.1] }), first)).toEqual({ ok: false, reason: "bad_signature" });
    });

    it("refuses swapped leaves (index changed, siblings kept) and a swapped sibling order", () => {
      const signed = signedOf();
      const [first] = signed;
      if (!first) throw new Error("one answer");
      expect(verify(all[0] ?? "", first, { ...first.proof, index: 1 })).toEqual({ ok: false, reason: "bad_signature" });
      const [a, b, ...rest] = first.proof.path;
      if (a === undefined || b === undefined) throw new Error("two siblings");
      expect(verify(all[0] ?? "", first, { ...first.proof, path: [b, a, ...rest] }).ok).toBe(false);
    });

    it("refuses a proof of the wrong length, an index past the count, or no proof", () => {
      const [first] = signedOf();
      if (!first) throw new Error("one answer");
      const p = first.proof;
      expect(verify(all[0] ?? "", first, { ...p, path: p.path.slice(1) })).toEqual({ ok: false, reason: "bad_proof" });
      expect(verify(all[0] ?? "", first, { ...p, path: [...p.path, "0".repeat(64)] })).toEqual({
        ok: false,
        reason: "bad_proof",
      });
      expect(verify(all[0] ?? "", first, { ...p, index: 5 })).toEqual({ ok: false, reason: "bad_proof" });
      // A different count changes both the expected shape and the signed text.
      expect(verify(all[0] ?? "", first, { ...p, count: 8 }).ok).toBe(false);
      expect(verifySignedAnswer(sr25519Verifier, all[0] ?? "", first.signature, undefined, { now: NOW })).toEqual({
        ok: false,
        reason: "bad_proof",
      });
    });

    it("refuses a proof whose first sibling is the leaf itself (a duplicate leaf)", () => {
      const leaf = bytesHex(answerLeaf(body(0)));
      const [signed] = signAnswerBatch(serving(), [body(0)], "", NOW);
      if (!signed) throw new Error("one answer");
      expect(verify(body(0), signed, { index: 0, count: 2, path: [leaf] })).toEqual({ ok: false, reason: "bad_proof" });
    });

    it("refuses a batch signed by a key other than the trusted one", () => {
      const impostor = signAnswerBatch(signerFromUri("//Impostor"), all, "", NOW)[0];
      if (!impostor) throw new Error("one answer");
      expect(verify(all[0] ?? "", impostor)).toEqual({ ok: false, reason: "wrong_signer" });
    });

    it("property: for any batch, each answer verifies only with its own proof and body", () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 40 }),
          fc.nat(),
          fc.nat(),
          (texts, pick, other) => {
            const { root, proofs } = answerTree(texts);
            const i = pick % texts.length;
            const j = other % texts.length;
            const proof = proofs[i];
            if (!proof) throw new Error("proof");
            const good = rootFromProof(texts[i] ?? "", proof);
            expect(good && bytesHex(good)).toBe(bytesHex(root));
            if (i !== j) {
              const crossed = rootFromProof(texts[j] ?? "", proof);
              expect(crossed === null || bytesHex(crossed) !== bytesHex(root)).toBe(true);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
