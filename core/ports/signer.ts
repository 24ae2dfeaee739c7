/** An sr25519 identity (hotkey). Implemented in adapters/identity over @polkadot/util-crypto. */
export interface Signer {
  /** ss58 address. */
  readonly address: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export interface SignatureVerifier {
  verify(message: Uint8Array, signature: Uint8Array, address: string): boolean;
}
