/**
 * Lets @polkadot/api sign with our Signer port (the key stays in the identity adapter). Signs exactly what a
 * keyring pair would: the payload bytes (method without length prefix), Blake2-256-hashed when over 256 bytes,
 * prefixed with the sr25519 MultiSignature tag.
 */

import type { TypeRegistry } from "@polkadot/types";
import type { Signer as PolkadotSigner, SignerPayloadJSON, SignerResult } from "@polkadot/types/types";
import { u8aConcat, u8aToHex } from "@polkadot/util";
import { blake2AsU8a } from "@polkadot/util-crypto";
import type { Signer } from "../../../core/ports/signer.ts";

const SR25519_TAG = 1;
let nextId = 0;

/** The bytes a keyring pair signs for a payload. */
export function payloadToSign(encodedPayload: Uint8Array): Uint8Array {
  return encodedPayload.length > 256 ? blake2AsU8a(encodedPayload, 256) : encodedPayload;
}

export function polkadotSigner(registry: Pick<TypeRegistry, "createType">, signer: Signer): PolkadotSigner {
  return {
    async signPayload(payload: SignerPayloadJSON): Promise<SignerResult> {
      const extrinsicPayload = registry.createType("ExtrinsicPayload", payload, { version: payload.version });
      const message = payloadToSign(extrinsicPayload.toU8a({ method: true }));
      const signature = signer.sign(message);
      nextId += 1;
      return { id: nextId, signature: u8aToHex(u8aConcat(Uint8Array.of(SR25519_TAG), signature)) };
    },
  };
}
