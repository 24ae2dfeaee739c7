/** tle-compatible timelock encryption to a drand round: IBE header around a fresh AES-256-GCM key (TIMELOCK.md §2). */
import { gcm } from "@noble/ciphers/aes.js";
import { parseTimelockCiphertext, serializeTimelockCiphertext } from "./ciphertext.ts";
import { GCM_TAG_BYTES, KEY_BYTES, NONCE_BYTES } from "./constants.ts";
import { TimelockError } from "./errors.ts";
import { ibeDecrypt, ibeEncrypt } from "./ibe.ts";

export interface TlockEncryptArgs {
  /** Beacon public key, compressed G2 (96 bytes); QUICKNET.publicKeyHex for the real chain. */
  publicKeyG2: Uint8Array;
  round: bigint;
  payload: Uint8Array;
  /** Fixed values are for known-answer tests only: esk is both the IBE message and the AES key, never reuse one. */
  esk?: Uint8Array;
  sigma?: Uint8Array;
  nonce?: Uint8Array;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

function fixedOrRandom(value: Uint8Array | undefined, length: number, name: string): Uint8Array {
  if (value === undefined) return randomBytes(length);
  if (value.length !== length) throw new TimelockError("InvalidInput", `${name} must be ${length} bytes`);
  return value;
}

export function tlockEncrypt(args: TlockEncryptArgs): Uint8Array {
  const esk = fixedOrRandom(args.esk, KEY_BYTES, "esk");
  const sigma = fixedOrRandom(args.sigma, KEY_BYTES, "sigma");
  const nonce = fixedOrRandom(args.nonce, NONCE_BYTES, "nonce");
  const { u, v, w } = ibeEncrypt(args.publicKeyG2, args.round, esk, sigma);
  const body = gcm(esk, nonce).encrypt(args.payload);
  return serializeTimelockCiphertext({ u, v, w, body, nonce });
}

/** Opens a ciphertext with the round's beacon signature; throws TimelockError (InvalidSignature | DecryptionError | MalformedCiphertext). */
export function tlockDecrypt(signatureG1: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const parsed = parseTimelockCiphertext(ciphertext);
  const esk = ibeDecrypt(signatureG1, parsed);
  if (parsed.body.length < GCM_TAG_BYTES) {
    throw new TimelockError("DecryptionError", "AES body shorter than its tag");
  }
  try {
    return gcm(esk, parsed.nonce).decrypt(parsed.body);
  } catch {
    throw new TimelockError("DecryptionError", "AES-GCM authentication failed");
  }
}
