/**
 * Why a timelock operation failed. The first three mirror what `tle`'s `tld` reports on chain, so a caller can
 * tell "wrong round / tampered header" from "tampered body" from "not a ciphertext at all".
 */
export type TimelockErrorCode =
  | "InvalidSignature"
  | "DecryptionError"
  | "MalformedCiphertext"
  | "MalformedPayload"
  | "InvalidInput"
  | "CommitTooLarge";

export class TimelockError extends Error {
  override readonly name = "TimelockError";
  constructor(
    readonly code: TimelockErrorCode,
    message: string,
  ) {
    super(message);
  }
}
