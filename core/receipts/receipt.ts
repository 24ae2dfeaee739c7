import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { z } from "zod";
import type { SignatureVerifier, Signer } from "../ports/signer.ts";
import { canonicalJson } from "./canonical-json.ts";
import { parseStrictJson } from "./strict-json.ts";

/**
 * A receipt is the gateway's signed statement of what a paid query bought: who answered, with what gate, what it
 * cost and a digest of the answer. Anyone with the gateway's ss58 address can check it offline (RECEIPTS.md).
 */
export const RECEIPT_DOMAIN = "market-receipt:v1:";

export const ReceiptExpert = z.strictObject({
  uid: z.number().int().min(0).max(65535),
  hotkey: z.string().min(1).max(64),
  gate: z.number().min(0).max(1),
});

/**
 * Strict: a field the gateway did not sign is refused, not ignored, so a receipt has exactly one reading. v2 binds
 * the input (`inputSha256`, the digest the experts signed with their answers).
 */
export const ReceiptPayload = z.strictObject({
  v: z.literal(2),
  requestId: z.string().min(1).max(200),
  keyId: z.string().min(1).max(200),
  task: z.string().min(1).max(64),
  experts: z.array(ReceiptExpert).max(64),
  cost: z.number().int().min(0),
  /** sha256 (hex) of the canonical JSON of the job input the experts ran (core/jobs/integrity.ts). */
  inputSha256: z.string().regex(/^[0-9a-f]{64}$/),
  outputSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** ms since epoch when the gateway settled the query. */
  time: z.number().int().positive(),
});
export type ReceiptPayload = z.infer<typeof ReceiptPayload>;

export const SignedReceipt = z.strictObject({
  payload: ReceiptPayload,
  signedBy: z.string().min(40).max(60),
  signature: z.string().regex(/^0x[0-9a-fA-F]{128}$/),
});
export type SignedReceipt = z.infer<typeof SignedReceipt>;

/** sha256 (hex) of the canonical JSON of an output. */
export function outputDigest(output: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(output))));
}

/** The exact bytes that are signed: domain prefix + canonical JSON of the payload. */
export function receiptMessage(payload: ReceiptPayload): Uint8Array {
  return utf8ToBytes(RECEIPT_DOMAIN + canonicalJson(payload));
}

export function signReceipt(signer: Signer, payload: ReceiptPayload): SignedReceipt {
  const signature = `0x${bytesToHex(signer.sign(receiptMessage(payload)))}`;
  return { payload, signedBy: signer.address, signature };
}

/**
 * The one parser of receipt text (and of any JSON document that carries one): duplicate keys refused, then the
 * strict schema. Callers holding raw text (the verify route) must come through here, not JSON.parse.
 */
export function parseReceiptJson(
  text: string,
): { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string } {
  const parsed = parseStrictJson(text);
  if (!parsed.ok) {
    const reason =
      parsed.reason === "duplicate_key"
        ? `duplicate key "${parsed.key}"`
        : parsed.reason === "too_deep"
          ? "nested too deeply"
          : "not JSON";
    return { ok: false, reason };
  }
  return parsed;
}

export type ReceiptCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: "malformed" | "wrong_signer" | "bad_signature" | "output_mismatch" };

/**
 * Checks a receipt: shape, that the expected gateway signed it (when given), the signature, and (when an output is
 * given) that the output matches the digest.
 */
export function verifyReceipt(
  verifier: SignatureVerifier,
  receipt: unknown,
  options: { readonly expectedSigner?: string; readonly output?: unknown } = {},
): ReceiptCheck {
  const parsed = SignedReceipt.safeParse(receipt);
  if (!parsed.success) return { ok: false, reason: "malformed" };
  const r = parsed.data;
  if (options.expectedSigner !== undefined && r.signedBy !== options.expectedSigner) {
    return { ok: false, reason: "wrong_signer" };
  }
  let valid = false;
  try {
    valid = verifier.verify(receiptMessage(r.payload), hexToBytes(r.signature.slice(2)), r.signedBy);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: "bad_signature" };
  if (options.output !== undefined) {
    let digest = "";
    try {
      digest = outputDigest(options.output);
    } catch {
      return { ok: false, reason: "output_mismatch" };
    }
    if (digest !== r.payload.outputSha256) return { ok: false, reason: "output_mismatch" };
  }
  return { ok: true };
}
