import { Keyring } from "@polkadot/keyring";
import { cryptoWaitReady, decodeAddress, signatureVerify } from "@polkadot/util-crypto";
import type { SignatureVerifier, Signer } from "../../core/ports/signer.ts";

/** Substrate's generic ss58 prefix; Bittensor uses 42 too. */
export const SS58_PREFIX = 42;

let ready: Promise<boolean> | undefined;
/** sr25519 needs the wasm crypto initialised once per process. */
export function identityReady(): Promise<boolean> {
  ready ??= cryptoWaitReady();
  return ready;
}

/** A hotkey from a secret URI (mnemonic, optionally with //derivation). Call `identityReady()` first. */
export function signerFromUri(uri: string): Signer {
  const pair = new Keyring({ type: "sr25519", ss58Format: SS58_PREFIX }).addFromUri(uri);
  return {
    address: pair.address,
    publicKey: pair.publicKey,
    sign: (message) => pair.sign(message),
  };
}

export const sr25519Verifier: SignatureVerifier = {
  verify(message, signature, address) {
    try {
      return signatureVerify(message, signature, address).isValid;
    } catch {
      return false;
    }
  },
};

/** 32-byte public key of an ss58 address; throws on a malformed address. */
export function publicKeyOf(address: string): Uint8Array {
  return decodeAddress(address);
}
