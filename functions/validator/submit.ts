import { blake2b } from "@noble/hashes/blake2.js";
import type { SubnetHyperparams, TxOutcome } from "../../core/ports/chain.ts";
import type { WeightSubmission } from "../../core/scores/schema.ts";
import { buildTimelockedCommit } from "../../core/timelock/index.ts";
import type { ValidatorDeps } from "./types.ts";

export type WeightPath = WeightSubmission["path"];

/**
 * The path the subnet allows: set_weights when commit-reveal is off; a drand-timelocked commit (version 4) when it is
 * on; commit/reveal v2 where a chain still runs the hash scheme. `none` (with the reason) when nothing fits.
 */
export function choosePath(hp: SubnetHyperparams): { path: WeightPath; reason?: string } {
  if (!hp.commitRevealWeightsEnabled) return { path: "set_weights" };
  if (hp.commitRevealVersion === 4) return { path: "timelock" };
  if (hp.commitRevealVersion === 2) return { path: "commit_reveal_v2" };
  return { path: "none", reason: `commit-reveal version ${hp.commitRevealVersion} is not supported by this validator` };
}

/** SCALE(hotkey[32], netuid u16, Vec<u16> uids, Vec<u16> values, Vec<u16> salt, version_key u64) -> Blake2b-256. */
export function commitHashV2(
  hotkey: Uint8Array,
  netuid: number,
  uids: readonly number[],
  values: readonly number[],
  salt: readonly number[],
  versionKey: bigint,
): Uint8Array {
  const parts: number[] = [...hotkey, netuid & 0xff, netuid >> 8];
  for (const vec of [uids, values, salt]) {
    parts.push(...compact(vec.length));
    for (const v of vec) parts.push(v & 0xff, (v >> 8) & 0xff);
  }
  for (let i = 0n; i < 8n; i++) parts.push(Number((versionKey >> (8n * i)) & 0xffn));
  return blake2b(Uint8Array.from(parts), { dkLen: 32 });
}

function compact(n: number): number[] {
  if (n < 1 << 6) return [n << 2];
  if (n < 1 << 14) return [((n << 2) | 1) & 0xff, (n >> 6) & 0xff];
  return [((n << 2) | 2) & 0xff, (n >> 6) & 0xff, (n >> 14) & 0xff, (n >> 22) & 0xff];
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
    case "commit_reveal_v2": {
      const salt = Array.from(crypto.getRandomValues(new Uint16Array(8)));
      const hash = commitHashV2(signer.publicKey, netuid, uids, values, salt, versionKey);
      const outcome = await chain.commitWeights(signer, netuid, hash);
      return { outcome, patch: { salt } };
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
