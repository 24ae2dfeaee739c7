import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { type EpistulaVerification, signEpistula, type VerifyOptions, verifyEpistula } from "../epistula/epistula.ts";
import type { ByteCodec } from "../ports/bytes.ts";
import type { SignatureVerifier, Signer } from "../ports/signer.ts";
import { AnswerProof, MAX_ANSWER_BATCH } from "./integrity.ts";
import { pureBytes } from "./job-input.ts";
import type { EpistulaSignature } from "./schema.ts";

/**
 * One signature per worker batch (issue 17): an sr25519 signature costs ~0.7 ms, a model answer of a small expert
 * ~1 us, so a worker signs the Merkle root of all the answers it finished together, and each answer carries its
 * inclusion proof. Fixed rules (also in functions/api/RECEIPTS.md, step 5):
 * - leaf i = sha256(0x00 || UTF-8 bytes of answer i's exact signed body text) (integrity.ts answerBodyText);
 * - node   = sha256(0x01 || left || right): leaves and inner nodes can never be mistaken for each other;
 * - leaves in batch order (indexed, not sorted); at each level pairs (0,1), (2,3), ...; an odd last node is carried
 *   up unchanged (never paired with itself, so no two trees of different sizes share a root);
 * - no two leaves of a batch are equal (the signer signs one body once);
 * - the Epistula body signed by the worker's serving key is `market-answer-batch:v1:<count>:<root hex>`, so the
 *   batch size (and with it the exact length of every proof) is signed too.
 * A single answer is a one-leaf tree: its root is its leaf and its proof is empty.
 */
export { AnswerProof };
export const ANSWER_BATCH_DOMAIN = "market-answer-batch:v1:";

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

/** The leaf of an answer body; `bytes` only chooses the SHA-256 implementation (the worker passes Node's). */
export function answerLeaf(bodyText: string, bytes: ByteCodec = pureBytes): Uint8Array {
  return bytes.sha256([LEAF, bodyText]);
}

function node(left: Uint8Array, right: Uint8Array, bytes: ByteCodec = pureBytes): Uint8Array {
  return bytes.sha256([NODE, left, right]);
}

/** The Epistula body a worker signs for a batch. */
export function batchRootText(count: number, root: Uint8Array): string {
  return `${ANSWER_BATCH_DOMAIN}${count}:${bytesToHex(root)}`;
}

/** Root and every leaf's proof of a batch of answer bodies; throws on an empty, oversized or repeating batch. */
export function answerTree(
  bodies: readonly string[],
  bytes: ByteCodec = pureBytes,
): { root: Uint8Array; proofs: AnswerProof[] } {
  const count = bodies.length;
  if (count === 0 || count > MAX_ANSWER_BATCH)
    throw new RangeError(`an answer batch holds 1..${MAX_ANSWER_BATCH} answers`);
  if (new Set(bodies).size !== count) throw new RangeError("an answer batch may not hold the same body twice");
  let level = bodies.map((body) => answerLeaf(body, bytes));
  const paths: string[][] = bodies.map(() => []);
  // positions[i]: where leaf i's ancestor sits in the current level.
  const positions = bodies.map((_, i) => i);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let j = 0; j < level.length; j += 2) {
      const left = level[j] as Uint8Array;
      const right = level[j + 1];
      next.push(right === undefined ? left : node(left, right, bytes));
    }
    for (let i = 0; i < count; i++) {
      const pos = positions[i] as number;
      const sibling = level[pos ^ 1];
      if (sibling !== undefined) paths[i]?.push(bytesToHex(sibling));
      positions[i] = pos >> 1;
    }
    level = next;
  }
  const root = level[0] as Uint8Array;
  return { root, proofs: paths.map((path, index) => ({ index, count, path })) };
}

/**
 * The root a proof leads to from a body, or null when the proof cannot belong to a tree of its size: the path must
 * have exactly the length the index and count call for, and the first sibling may not equal the leaf itself.
 */
export function rootFromProof(bodyText: string, proof: AnswerProof): Uint8Array | null {
  const parsed = AnswerProof.safeParse(proof);
  if (!parsed.success) return null;
  const { index, count, path } = parsed.data;
  if (index >= count) return null;
  const leaf = answerLeaf(bodyText);
  let hash = leaf;
  let pos = index;
  let width = count;
  let used = 0;
  while (width > 1) {
    const siblingPos = pos ^ 1;
    if (siblingPos < width) {
      const hex = path[used];
      if (hex === undefined) return null;
      const sibling = hexToBytes(hex);
      if (used === 0 && equalBytes(sibling, leaf)) return null;
      hash = pos % 2 === 0 ? node(hash, sibling) : node(sibling, hash);
      used++;
    }
    pos >>= 1;
    width = Math.ceil(width / 2);
  }
  return used === path.length ? hash : null;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export interface SignedAnswer {
  readonly signature: EpistulaSignature;
  readonly proof: AnswerProof;
}

/** Signs a batch of answer bodies with one signature, for the receiver `signedFor` ("" = not bound to one). */
export function signAnswerBatch(
  signer: Signer,
  bodies: readonly string[],
  signedFor: string,
  now: number,
  bytes: ByteCodec = pureBytes,
): SignedAnswer[] {
  const { root, proofs } = answerTree(bodies, bytes);
  const signature = signEpistula(signer, batchRootText(bodies.length, root), signedFor, { now });
  return proofs.map((proof) => ({ signature, proof }));
}

export type AnswerVerification = EpistulaVerification | { readonly ok: false; readonly reason: "bad_proof" };

/** An answer body is signed when its proof leads to a root whose batch text the signature covers. */
export function verifySignedAnswer(
  verifier: SignatureVerifier,
  bodyText: string,
  signature: EpistulaSignature,
  proof: AnswerProof | undefined,
  opts: VerifyOptions,
): AnswerVerification {
  if (proof === undefined) return { ok: false, reason: "bad_proof" };
  const root = rootFromProof(bodyText, proof);
  if (root === null) return { ok: false, reason: "bad_proof" };
  return verifyEpistula(verifier, batchRootText(proof.count, root), signature, opts);
}
