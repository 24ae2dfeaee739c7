/** A CR-v3/v4 commit: the SCALE weights payload timelocked to a reveal round, refused when the chain would refuse it. */
import { CIPHERTEXT_OVERHEAD_BYTES, MAX_COMMIT_BYTES } from "./constants.ts";
import { TimelockError } from "./errors.ts";
import { encodeWeightsPayload, type WeightsPayload } from "./payload.ts";
import { tlockEncrypt } from "./tlock.ts";

export interface TimelockedCommitArgs {
  /** Beacon public key (compressed G2): quicknet's on a real chain, the local beacon's on the devnet. */
  publicKeyG2: Uint8Array;
  /** drand round whose signature opens the commit (see revealRoundLegacy / revealRoundForBlock). */
  round: bigint;
  weights: WeightsPayload;
  /** Fixed values for tests only; random when omitted. */
  esk?: Uint8Array;
  sigma?: Uint8Array;
  nonce?: Uint8Array;
}

/** Largest plaintext that still fits: 5000 − 244 = 4756 bytes, i.e. 1177 uid/value pairs with a hotkey. */
export const MAX_COMMIT_PLAINTEXT_BYTES = MAX_COMMIT_BYTES - CIPHERTEXT_OVERHEAD_BYTES;

/** Throws CommitTooLarge when the bytes exceed the `BoundedVec<u8, 5000>` the extrinsic takes. */
export function assertCommitFits(commit: Uint8Array): void {
  if (commit.length > MAX_COMMIT_BYTES) {
    throw new TimelockError(
      "CommitTooLarge",
      `timelocked commit is ${commit.length} bytes; the chain accepts at most ${MAX_COMMIT_BYTES}`,
    );
  }
}

/** The commit bytes for `commit_timelocked_(mechanism_)weights`. The size is checked before the pairing is paid for. */
export function buildTimelockedCommit(args: TimelockedCommitArgs): Uint8Array {
  const payload = encodeWeightsPayload(args.weights);
  const expected = payload.length + CIPHERTEXT_OVERHEAD_BYTES;
  if (expected > MAX_COMMIT_BYTES) {
    throw new TimelockError(
      "CommitTooLarge",
      `timelocked commit would be ${expected} bytes (payload ${payload.length} + ${CIPHERTEXT_OVERHEAD_BYTES}); ` +
        `the chain accepts at most ${MAX_COMMIT_BYTES}, so send at most 1177 uid/value pairs (${args.weights.uids.length} given)`,
    );
  }
  const commit = tlockEncrypt({
    publicKeyG2: args.publicKeyG2,
    round: args.round,
    payload,
    ...(args.esk === undefined ? {} : { esk: args.esk }),
    ...(args.sigma === undefined ? {} : { sigma: args.sigma }),
    ...(args.nonce === undefined ? {} : { nonce: args.nonce }),
  });
  assertCommitFits(commit);
  return commit;
}
