import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { EpistulaSignature } from "../jobs/schema.ts";
import type { SignatureVerifier, Signer } from "../ports/signer.ts";

/** Every reference implementation accepts a timestamp up to 8 s old (PROTOCOL.md section 4). */
export const EPISTULA_MAX_AGE_MS = 8000;
/** The spec sets no bound on future timestamps; 2 s (one implementation's choice) absorbs clock skew. */
export const EPISTULA_MAX_FUTURE_MS = 2000;

export type EpistulaFailure = "bad_signature" | "wrong_signer" | "wrong_recipient" | "stale" | "future";
export type EpistulaVerification = { ok: true } | { ok: false; reason: EpistulaFailure };

export interface SignOptions {
  readonly now?: number;
  readonly uuid?: string;
}

export interface VerifyOptions {
  readonly now: number;
  /** ss58 the signature must come from (e.g. a registered validator); any signer when omitted. */
  readonly expectedSigner?: string;
  /** Our own ss58: the request must be bound to us. Not checked when omitted. */
  readonly signedFor?: string;
  readonly maxAgeMs?: number;
  readonly maxFutureMs?: number;
}

/** The exact UTF-8 text that is signed: `${sha256hex(body)}.${uuid}.${timestamp}.${signedFor}`. */
export function epistulaMessage(body: string, uuid: string, timestamp: string, signedFor: string): string {
  return `${bytesToHex(sha256(utf8ToBytes(body)))}.${uuid}.${timestamp}.${signedFor}`;
}

/** The signed text for a binary body (e.g. an uploaded model): the same format over the bytes' sha256. */
export function epistulaMessageForBytes(bytes: Uint8Array, uuid: string, timestamp: string, signedFor: string): string {
  return `${bytesToHex(sha256(bytes))}.${uuid}.${timestamp}.${signedFor}`;
}

/** signEpistula for a binary body: the signature covers the exact bytes sent. */
export function signEpistulaBytes(
  signer: Signer,
  bytes: Uint8Array,
  signedFor: string,
  opts: SignOptions = {},
): EpistulaSignature {
  return signMessage(signer, signedFor, opts, (uuid, timestamp) =>
    epistulaMessageForBytes(bytes, uuid, timestamp, signedFor),
  );
}

/** verifyEpistula for a binary body (same checks, same order). */
export function verifyEpistulaBytes(
  verifier: SignatureVerifier,
  bytes: Uint8Array,
  sig: EpistulaSignature,
  opts: VerifyOptions,
): EpistulaVerification {
  return verifyMessage(verifier, sig, opts, (s) => epistulaMessageForBytes(bytes, s.uuid, s.timestamp, s.signedFor));
}

/** Signs `body` (the exact string that will be sent) for the receiver `signedFor` ("" = not bound to one receiver). */
export function signEpistula(
  signer: Signer,
  body: string,
  signedFor: string,
  opts: SignOptions = {},
): EpistulaSignature {
  return signMessage(signer, signedFor, opts, (uuid, timestamp) => epistulaMessage(body, uuid, timestamp, signedFor));
}

/** One signing path for string and binary bodies: a fresh uuid and timestamp, then the body's message signed. */
function signMessage(
  signer: Signer,
  signedFor: string,
  opts: SignOptions,
  message: (uuid: string, timestamp: string) => string,
): EpistulaSignature {
  const uuid = opts.uuid ?? crypto.randomUUID();
  const timestamp = String(Math.trunc(opts.now ?? Date.now()));
  const signature = signer.sign(utf8ToBytes(message(uuid, timestamp)));
  return {
    version: "2",
    timestamp,
    uuid,
    signedBy: signer.address,
    signedFor,
    signature: `0x${bytesToHex(signature)}`,
  };
}

/**
 * Checks freshness first (cheap), then who signed and for whom, then the sr25519 signature over the exact body.
 * Never throws: a malformed signature object is `bad_signature`. Replay protection is the caller's job
 * (EpistulaReplayCache), because only the caller knows whether a repeat is legitimate (a queue redelivery is).
 */
export function verifyEpistula(
  verifier: SignatureVerifier,
  body: string,
  sig: EpistulaSignature,
  opts: VerifyOptions,
): EpistulaVerification {
  return verifyMessage(verifier, sig, opts, (s) => epistulaMessage(body, s.uuid, s.timestamp, s.signedFor));
}

function verifyMessage(
  verifier: SignatureVerifier,
  sig: EpistulaSignature,
  opts: VerifyOptions,
  text: (s: EpistulaSignature) => string,
): EpistulaVerification {
  const parsed = EpistulaSignature.safeParse(sig);
  if (!parsed.success) return { ok: false, reason: "bad_signature" };
  const s = parsed.data;
  const timestamp = Number(s.timestamp);
  if (timestamp + (opts.maxAgeMs ?? EPISTULA_MAX_AGE_MS) < opts.now) return { ok: false, reason: "stale" };
  if (timestamp - (opts.maxFutureMs ?? EPISTULA_MAX_FUTURE_MS) > opts.now) return { ok: false, reason: "future" };
  if (opts.expectedSigner !== undefined && s.signedBy !== opts.expectedSigner)
    return { ok: false, reason: "wrong_signer" };
  if (opts.signedFor !== undefined && s.signedFor !== opts.signedFor) return { ok: false, reason: "wrong_recipient" };
  const message = utf8ToBytes(text(s));
  let valid = false;
  try {
    valid = verifier.verify(message, hexToBytes(s.signature.slice(2)), s.signedBy);
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: "bad_signature" };
}
