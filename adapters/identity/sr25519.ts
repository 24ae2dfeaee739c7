import { Keyring } from "@polkadot/keyring";
import { decodePair } from "@polkadot/keyring/pair/decode";
import { cryptoWaitReady, decodeAddress, signatureVerify } from "@polkadot/util-crypto";
import { isReady, sr25519Sign, sr25519Verify } from "@polkadot/wasm-crypto";
import type { SignatureVerifier, Signer } from "../../core/ports/signer.ts";

/** Substrate's generic ss58 prefix; Bittensor uses 42 too. */
export const SS58_PREFIX = 42;

let ready: Promise<boolean> | undefined;
/** sr25519 needs the wasm crypto initialised once per process. */
export function identityReady(): Promise<boolean> {
  ready ??= cryptoWaitReady();
  return ready;
}

/**
 * A hotkey from a secret URI (mnemonic, optionally with //derivation). Call `identityReady()` first.
 * The keyring derives the pair; signatures are made by @polkadot/wasm-crypto's sr25519 (schnorrkel compiled to
 * wasm, ready once `identityReady` resolved), ~7x faster than the keyring's own pure-JS signer (~110 us against
 * ~750 us here): the same signature scheme, verified by either.
 */
export function signerFromUri(uri: string): Signer {
  const pair = new Keyring({ type: "sr25519", ss58Format: SS58_PREFIX }).addFromUri(uri);
  // The unencrypted PKCS#8 form is the keyring's one way to hand out a pair's secret; it stays in this closure.
  const { publicKey, secretKey } = decodePair(undefined, pair.encodePkcs8(), "none");
  return {
    address: pair.address,
    publicKey: pair.publicKey,
    // Before the wasm is up (a caller that skipped identityReady), the keyring's signer still works, slowly.
    sign: (message) => (isReady() ? sr25519Sign(publicKey, secretKey, message) : pair.sign(message)),
  };
}

/** Public keys of the addresses seen lately (a settler verifies the same few worker keys over and over). */
const publicKeys = new Map<string, Uint8Array>();
const MAX_CACHED_KEYS = 4096;

function cachedPublicKey(address: string): Uint8Array {
  let key = publicKeys.get(address);
  if (key === undefined) {
    key = decodeAddress(address);
    if (publicKeys.size >= MAX_CACHED_KEYS) publicKeys.clear();
    publicKeys.set(address, key);
  }
  return key;
}

/**
 * sr25519 only (Epistula's scheme). With the wasm up, schnorrkel's own verify (~10x the keyring's pure-JS one, which
 * also tries ed25519 and ecdsa first: it was ~9% of the market's CPU under load, issue 17); before it, the keyring's.
 * Signatures found valid lately are remembered (see `verified`).
 */
export const sr25519Verifier: SignatureVerifier = {
  verify(message, signature, address) {
    const wasm = isReady();
    if (wasm && verifiedLately(message, signature, address)) return true;
    let valid: boolean;
    try {
      valid = wasm
        ? signature.length === 64 && sr25519Verify(signature, message, cachedPublicKey(address))
        : signatureVerify(message, signature, address).isValid;
    } catch {
      valid = false;
    }
    // Only the wasm's sr25519 verdicts: the keyring's check also takes ed25519 and ecdsa signatures (and <Bytes>
    // wrapped messages), which must not pass once the wasm is up.
    if (valid && wasm) rememberVerified(message, signature, address);
    return valid;
  },
};

/**
 * Valid signatures seen lately, by signer and signature, with the exact message each signs. The k answers of a
 * worker batch share one signature over their Merkle root, so a settler checked that one signature once per answer
 * (k per query and more at 16 clients: ~3% of the market's CPU, issue 17). Only valid ones are kept: a failure is
 * checked afresh every time, and a hit needs the same signer, signature and message bytes. Oldest out first.
 */
const verified = new Map<string, Uint8Array>();
const MAX_VERIFIED = 4096;

function verifiedKey(signature: Uint8Array, address: string): string {
  return `${address}:${Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString("base64")}`;
}

function verifiedLately(message: Uint8Array, signature: Uint8Array, address: string): boolean {
  const seen = verified.get(verifiedKey(signature, address));
  return seen !== undefined && Buffer.from(seen).equals(message);
}

function rememberVerified(message: Uint8Array, signature: Uint8Array, address: string): void {
  if (verified.size >= MAX_VERIFIED) {
    const oldest = verified.keys().next().value;
    if (oldest !== undefined) verified.delete(oldest);
  }
  verified.set(verifiedKey(signature, address), Uint8Array.from(message));
}

/** 32-byte public key of an ss58 address; throws on a malformed address. */
export function publicKeyOf(address: string): Uint8Array {
  return decodeAddress(address);
}
