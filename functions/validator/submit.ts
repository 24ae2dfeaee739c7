import type { SubnetHyperparams, TxOutcome } from "../../core/ports/chain.ts";
import type { WeightSubmission } from "../../core/scores/schema.ts";
import { buildTimelockedCommit } from "../../core/timelock/index.ts";
import type { ValidatorDeps } from "./types.ts";

export type WeightPath = WeightSubmission["path"];

/**
 * The path the subnet allows: set_weights when commit-reveal is off; a drand-timelocked commit (version 4) when it is
 * on, as on mainnet. Commit/reveal v2 is not sent: a hash commit is only worth anything with its reveal exactly one
 * reveal period later, which a once-per-epoch validator run does not do, and an unrevealed commit still moves
 * LastUpdate (the chain would show an active validator with no weights). `none` (with the reason) when nothing fits.
 */
export function choosePath(hp: SubnetHyperparams): { path: WeightPath; reason?: string } {
  if (!hp.commitRevealWeightsEnabled) return { path: "set_weights" };
  if (hp.commitRevealVersion === 4) return { path: "timelock" };
  return { path: "none", reason: `commit-reveal version ${hp.commitRevealVersion} is not supported by this validator` };
}

/** What one submission did: the outcome as the chain answered, plus what to store. */
export interface Submitted {
  readonly outcome: TxOutcome | null;
  readonly patch: Partial<WeightSubmission>;
}

export async function submitWeights(
  deps: ValidatorDeps,
  hp: SubnetHyperparams,
  path: WeightPath,
  uids: readonly number[],
  values: readonly number[],
): Promise<Submitted> {
  const { chain, signer, netuid } = deps;
  const versionKey = hp.weightsVersionKey;
  switch (path) {
    case "set_weights": {
      const outcome = await chain.setWeights(signer, netuid, uids, values, versionKey);
      return { outcome, patch: {} };
    }
    case "timelock": {
      const beacon = await chain.timelockBeacon();
      const round = await revealRound(deps, hp);
      const commit = buildTimelockedCommit({
        publicKeyG2: beacon.publicKeyG2,
        round,
        weights: { hotkey: signer.publicKey, uids: [...uids], values: [...values], versionKey },
      });
      const outcome = await chain.commitTimelockedWeights(signer, netuid, commit, round, hp.commitRevealVersion);
      return { outcome, patch: { revealRound: round.toString() } };
    }
    // Records from before v2 was dropped may name it; nothing is sent for it any more.
    case "commit_reveal_v2":
    case "none":
      return { outcome: null, patch: {} };
  }
}

/**
 * The drand round that opens the commit: the round out when the reveal epoch starts (+3 blocks, as the SDK), with the
 * epoch start taken from the chain's own schedule (its runtime API on Bittensor), not the legacy modulo formula.
 */
async function revealRound(deps: ValidatorDeps, hp: SubnetHyperparams): Promise<bigint> {
  const [next, current, beacon] = await Promise.all([
    deps.chain.nextEpochStartBlock(deps.netuid),
    deps.chain.currentBlock(),
    deps.chain.timelockBeacon(),
  ]);
  const targetBlock = next + (hp.revealPeriodEpochs - 1) * hp.tempo + 3;
  const seconds = (targetBlock - current) * beacon.blockTimeSeconds;
  const round = Math.floor((beacon.nowSeconds + seconds - beacon.genesisTime) / beacon.period);
  return BigInt(Math.max(Number(beacon.lastStoredRound) + 1, round, 1));
}
