/**
 * drand-timelocked weight commits (CR v3/v4), byte-compatible with the `tle` revision subtensor decrypts with.
 * See /work/shared/docs/TIMELOCK.md for the format and the sources behind each choice.
 */
export { generateBeaconKey, signRound, verifyBeaconSignature } from "./beacon.ts";
export { parseTimelockCiphertext, serializeTimelockCiphertext, type TimelockCiphertext } from "./ciphertext.ts";
export {
  assertCommitFits,
  buildTimelockedCommit,
  MAX_COMMIT_PLAINTEXT_BYTES,
  type TimelockedCommitArgs,
} from "./commit.ts";
export {
  CIPHERTEXT_OVERHEAD_BYTES,
  MAX_COMMIT_BYTES,
  QUICKNET,
  QUICKNET_DST,
  SECURITY_BLOCK_OFFSET,
} from "./constants.ts";
export { TimelockError, type TimelockErrorCode } from "./errors.ts";
export { roundIdentity, roundPointG1 } from "./identity.ts";
export {
  type DecodedWeightsPayload,
  decodeWeightsPayload,
  encodeWeightsPayload,
  type WeightsPayload,
} from "./payload.ts";
export {
  type LegacyRevealArgs,
  type RevealForBlockArgs,
  revealRoundForBlock,
  revealRoundLegacy,
} from "./reveal-round.ts";
export { type TlockEncryptArgs, tlockDecrypt, tlockEncrypt } from "./tlock.ts";
