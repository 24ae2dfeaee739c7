/** commit_weights / reveal_weights (CR v2), `subnets/weights.rs` and the `CheckWeights` guard, in the chain's order. */
import { u8aToHex } from "@polkadot/util";
import { currentEpochWithLookahead, type DevnetContext, type Dispatch, emit, fail, OK, subnetOf } from "../context.ts";
import { type HashCommit, MAX_UNREVEALED_COMMITS, type SubnetState, uidOf } from "../state.ts";
import { commitHash } from "./commit-hash.ts";
import { internalSetWeights, minStakeGuard, passesRateLimit } from "./weights.ts";

/** A v2 commit past its reveal epoch: it can never be revealed, and the epoch's weight mask ignores it. */
export function isExpired(subnet: SubnetState, block: number, commitEpoch: number): boolean {
  return currentEpochWithLookahead(subnet, block) > commitEpoch + subnet.hyperparams.revealPeriodEpochs;
}

function isRevealEpoch(subnet: SubnetState, block: number, commitEpoch: number): boolean {
  return currentEpochWithLookahead(subnet, block) === commitEpoch + subnet.hyperparams.revealPeriodEpochs;
}

function dropExpired(subnet: SubnetState, block: number, commits: HashCommit[]): HashCommit[] {
  let first = 0;
  while (first < commits.length && isExpired(subnet, block, commits[first]?.epoch ?? 0)) first++;
  return commits.slice(first);
}

export function commitWeights(ctx: DevnetContext, who: string, netuid: number, hash: Uint8Array): Dispatch {
  const guard = minStakeGuard(ctx, who, netuid);
  if (!guard.ok) return guard;
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("MechanismDoesNotExist");
  if (hash.length !== 32) return fail("InvalidValue");
  if (!subnet.hyperparams.commitRevealWeightsEnabled) return fail("CommitRevealDisabled");
  const uid = uidOf(subnet, who);
  if (uid === null) return fail("HotKeyNotRegisteredInSubNet");
  const block = ctx.state.block;
  if (!passesRateLimit(subnet, uid, block)) return fail("CommittingWeightsTooFast");
  const epoch = currentEpochWithLookahead(subnet, block);
  const commits = dropExpired(subnet, block, subnet.weightCommits[who] ?? []);
  if (commits.length >= MAX_UNREVEALED_COMMITS) return fail("TooManyUnrevealedCommits");
  const hashHex = u8aToHex(hash);
  commits.push({ hash: hashHex, epoch, block });
  subnet.weightCommits[who] = commits;
  emit(ctx, "WeightsCommitted", { who, netuid, hash: hashHex });
  const neuron = subnet.neurons[uid];
  if (neuron) neuron.lastUpdate = block;
  return OK;
}

export interface RevealArgs {
  readonly who: string;
  readonly netuid: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly salt: readonly number[];
  readonly versionKey: bigint;
}

/**
 * The guard runs first and looks the hash up among *all* stored commits: a hash that is not there is
 * NoWeightsCommitFound, and one outside its reveal epoch (early or expired) is RevealTooEarly.
 */
function revealGuard(ctx: DevnetContext, args: RevealArgs, hashHex: string): Dispatch {
  const guard = minStakeGuard(ctx, args.who, args.netuid);
  if (!guard.ok) return guard;
  const subnet = subnetOf(ctx, args.netuid);
  const commits = subnet?.weightCommits[args.who];
  if (!subnet || !commits) return fail("NoWeightsCommitFound");
  const found = commits.find((c) => c.hash === hashHex);
  if (!found) return fail("NoWeightsCommitFound");
  return isRevealEpoch(subnet, ctx.state.block, found.epoch) ? OK : fail("RevealTooEarly");
}

/** The reveal's transaction-pool check alone (what a node runs before the reveal enters a block). */
export function revealPoolCheck(ctx: DevnetContext, args: RevealArgs): Dispatch {
  return revealGuard(
    ctx,
    args,
    u8aToHex(commitHash(args.who, args.netuid, args.uids, args.values, args.salt, args.versionKey)),
  );
}

export function revealWeights(ctx: DevnetContext, args: RevealArgs): Dispatch {
  const hashHex = u8aToHex(commitHash(args.who, args.netuid, args.uids, args.values, args.salt, args.versionKey));
  const guard = revealGuard(ctx, args, hashHex);
  if (!guard.ok) return guard;
  const subnet = subnetOf(ctx, args.netuid);
  if (!subnet) return fail("NoWeightsCommitFound");
  if (!subnet.hyperparams.commitRevealWeightsEnabled) return fail("CommitRevealDisabled");
  const block = ctx.state.block;
  const stored = subnet.weightCommits[args.who] ?? [];
  const expiredHashes = new Set<string>();
  let live = stored;
  while (live.length > 0 && isExpired(subnet, block, live[0]?.epoch ?? 0)) {
    expiredHashes.add(live[0]?.hash ?? "");
    live = live.slice(1);
  }
  const expiredOr = (other: string) => fail(expiredHashes.has(hashHex) ? "ExpiredWeightCommit" : other);
  if (live.length === 0) return expiredOr("NoWeightsCommitFound");
  const position = live.findIndex((c) => c.hash === hashHex);
  if (position < 0) return expiredOr("InvalidRevealCommitHashNotMatch");
  const target = live[position];
  if (!target || !isRevealEpoch(subnet, block, target.epoch)) return fail("RevealTooEarly");
  // The extrinsic is transactional: commits are consumed only if the weights are accepted.
  const applied = internalSetWeights(ctx, args);
  if (!applied.ok) return applied;
  const remaining = live.slice(position + 1);
  if (remaining.length === 0) delete subnet.weightCommits[args.who];
  else subnet.weightCommits[args.who] = remaining;
  emit(ctx, "WeightsRevealed", { who: args.who, netuid: args.netuid, hash: hashHex });
  return OK;
}
