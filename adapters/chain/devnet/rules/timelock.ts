/**
 * commit_timelocked_weights and the per-block reveal of timelocked commits
 * (`subnets/weights.rs::internal_commit_timelocked_weights`, `coinbase/reveal_commits.rs`), against the devnet's own
 * drand-like beacon: a BLS key that signs round r at chain time genesis + (r-1)·period.
 */
import { u8aEq, u8aToHex } from "@polkadot/util";
import { blake2AsU8a, decodeAddress } from "@polkadot/util-crypto";
import { currentEpochWithLookahead, type DevnetContext, type Dispatch, emit, fail, OK, subnetOf } from "../context.ts";
import { MAX_TIMELOCK_COMMIT_BYTES, MAX_UNREVEALED_COMMITS, type SubnetState, uidOf } from "../state.ts";
import { internalSetWeights, minStakeGuard, passesRateLimit } from "./weights.ts";

/** The core/timelock functions the devnet needs; injected so the rules stay testable on their own. */
export interface TimelockOps {
  generateBeaconKey(seed?: Uint8Array): { secretKey: Uint8Array; publicKeyG2: Uint8Array };
  signRound(secretKey: Uint8Array, round: bigint): Uint8Array;
  tlockDecrypt(signatureG1: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  decodeWeightsPayload(bytes: Uint8Array): {
    hotkey: Uint8Array | null;
    uids: number[];
    values: number[];
    versionKey: bigint;
  };
}

/** Where pulses come from: `pulse(round)` is null until the beacon has published that round. */
export interface PulseSource {
  lastStoredRound(): bigint;
  pulse(round: bigint): Uint8Array | null;
}

/** Latest round published at a chain time (unix ms): drand publishes round r at genesis + (r-1)·period. */
export function roundAt(chainTimeMs: number, genesisTime: number, period: number): bigint {
  const elapsed = chainTimeMs / 1000 - genesisTime;
  if (elapsed < 0) return 0n;
  return BigInt(Math.floor(elapsed / period)) + 1n;
}

export interface TimelockedCommitArgs {
  readonly who: string;
  readonly netuid: number;
  readonly commit: Uint8Array;
  readonly revealRound: bigint;
  readonly commitRevealVersion: number;
}

export function commitTimelockedWeights(ctx: DevnetContext, beacon: PulseSource, args: TimelockedCommitArgs): Dispatch {
  const { who, netuid, commit, revealRound } = args;
  // A BoundedVec<u8, 5000> longer than its bound does not even decode on the node.
  if (commit.length > MAX_TIMELOCK_COMMIT_BYTES) return fail("CommitTooLarge");
  const guard = minStakeGuard(ctx, who, netuid);
  if (!guard.ok) return guard;
  if (revealRound < beacon.lastStoredRound()) return fail("InvalidRevealRound");
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("MechanismDoesNotExist");
  if (!subnet.hyperparams.commitRevealWeightsEnabled) return fail("CommitRevealDisabled");
  if (args.commitRevealVersion !== ctx.state.commitRevealWeightsVersion) return fail("IncorrectCommitRevealVersion");
  const uid = uidOf(subnet, who);
  if (uid === null) return fail("HotKeyNotRegisteredInSubNet");
  const block = ctx.state.block;
  if (!passesRateLimit(subnet, uid, block)) return fail("CommittingWeightsTooFast");
  const epoch = currentEpochWithLookahead(subnet, block);
  const key = String(epoch);
  const queue = subnet.timelockedCommits[key] ?? [];
  if (queue.filter((c) => c.who === who).length >= MAX_UNREVEALED_COMMITS) return fail("TooManyUnrevealedCommits");
  queue.push({ who, block, commitHex: u8aToHex(commit), round: revealRound });
  subnet.timelockedCommits[key] = queue;
  emit(ctx, "TimelockedWeightsCommitted", {
    who,
    netuid,
    commitHash: u8aToHex(blake2AsU8a(commit, 256)),
    revealRound: revealRound.toString(),
    epoch,
  });
  const neuron = subnet.neurons[uid];
  if (neuron) neuron.lastUpdate = block;
  return OK;
}

/**
 * `reveal_crv3_commits_for_subnet`, run at the start of every block before the coinbase: commits of epoch
 * `current - reveal_period` are opened; a missing pulse keeps the commit for the next block of that epoch; any
 * other failure (undecryptable, wrong hotkey, rejected weights) drops it silently, as on chain.
 */
export function revealTimelockedCommits(
  ctx: DevnetContext,
  ops: TimelockOps,
  beacon: PulseSource,
  subnet: SubnetState,
): void {
  const period = subnet.hyperparams.revealPeriodEpochs;
  const current = currentEpochWithLookahead(subnet, ctx.state.block);
  const revealEpoch = current - period;
  for (const key of Object.keys(subnet.timelockedCommits)) {
    if (Number(key) < revealEpoch) delete subnet.timelockedCommits[key];
  }
  if (current < period) return;
  const key = String(revealEpoch);
  const entries = subnet.timelockedCommits[key] ?? [];
  delete subnet.timelockedCommits[key];
  const waiting = entries.filter((entry) => {
    const signature = beacon.pulse(entry.round);
    if (signature === null) return true;
    const weights = openCommit(ops, signature, entry.commitHex, entry.who);
    if (weights === null) return false;
    const applied = internalSetWeights(ctx, { who: entry.who, netuid: subnet.netuid, ...weights });
    if (applied.ok) emit(ctx, "TimelockedWeightsRevealed", { netuid: subnet.netuid, who: entry.who });
    return false;
  });
  if (waiting.length > 0) subnet.timelockedCommits[key] = waiting;
}

function openCommit(
  ops: TimelockOps,
  signature: Uint8Array,
  commitHex: string,
  who: string,
): { uids: number[]; values: number[]; versionKey: bigint } | null {
  try {
    const plaintext = ops.tlockDecrypt(signature, hexBytes(commitHex));
    const payload = ops.decodeWeightsPayload(plaintext);
    if (payload.hotkey !== null && !u8aEq(payload.hotkey, decodeAddress(who))) return null;
    return { uids: payload.uids, values: payload.values, versionKey: payload.versionKey };
  } catch {
    return null;
  }
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}
