/**
 * The coinbase step of a block: mint, and run each due subnet's epoch through Yuma Consensus (`runEpoch`),
 * then persist what the chain persists and pay emission into stake (it is auto-staked on chain).
 */
import type { EpochInput, EpochOutput } from "../../../core/consensus/types.ts";
import { type DevnetContext, emit, shouldRunEpoch } from "./context.ts";
import { accrueBlockEmission, drainPending } from "./emission.ts";
import { isExpired } from "./rules/commit-reveal.ts";
import { MAX_EPOCHS_PER_BLOCK, ownerUid, type SubnetState } from "./state.ts";

export type EpochFn = (input: EpochInput) => EpochOutput;

/** Per uid, the block of its earliest live commit (hash or timelocked), or null. Expired v2 commits are not live. */
export function earliestCommitBlocks(subnet: SubnetState, block: number): (number | null)[] {
  const earliest = new Map<string, number>();
  const note = (who: string, at: number) => earliest.set(who, Math.min(at, earliest.get(who) ?? at));
  for (const [who, commits] of Object.entries(subnet.weightCommits))
    for (const c of commits) if (!isExpired(subnet, block, c.epoch)) note(who, c.block);
  for (const queue of Object.values(subnet.timelockedCommits)) for (const c of queue) note(c.who, c.block);
  return subnet.neurons.map((n) => earliest.get(n.hotkey) ?? null);
}

export function epochInput(ctx: DevnetContext, subnet: SubnetState, raoEmission: bigint): EpochInput {
  const h = subnet.hyperparams;
  const neurons = subnet.neurons;
  return {
    n: neurons.length,
    currentBlock: ctx.state.block,
    tempo: h.tempo,
    activityCutoffFactorMilli: h.activityCutoffFactorMilli,
    lastUpdate: neurons.map((n) => n.lastUpdate),
    blockAtRegistration: neurons.map((n) => n.blockAtRegistration),
    stake: neurons.map((n) => subnet.stake[n.hotkey] ?? 0n),
    validatorPermits: neurons.map((n) => n.validatorPermit),
    maxAllowedValidators: h.maxAllowedValidators,
    ownerUid: ownerUid(subnet),
    weights: neurons.map((n) => n.weights),
    bonds: neurons.map((n) => n.bonds),
    kappa: h.kappa,
    bondsPenalty: h.bondsPenalty,
    bondsMovingAverage: h.bondsMovingAverage,
    yuma3: h.yuma3Enabled,
    liquidAlpha: h.liquidAlphaEnabled,
    alphaLow: h.alphaLow,
    alphaHigh: h.alphaHigh,
    alphaSigmoidSteepness: h.alphaSigmoidSteepness,
    raoEmission,
    stakeThreshold: ctx.state.stakeThreshold,
    lastMechanismStepBlock: subnet.lastMechanismStepBlock,
    ...(h.commitRevealWeightsEnabled ? { earliestCommitBlock: earliestCommitBlocks(subnet, ctx.state.block) } : {}),
  };
}

function applyEpochOutput(ctx: DevnetContext, subnet: SubnetState, out: EpochOutput): void {
  const owner = ownerUid(subnet);
  subnet.neurons.forEach((neuron, uid) => {
    neuron.active = out.active[uid] ?? false;
    neuron.validatorPermit = out.newValidatorPermits[uid] ?? false;
    neuron.consensus = out.consensusU16[uid] ?? 0;
    neuron.validatorTrust = out.validatorTrustU16[uid] ?? 0;
    neuron.incentive = out.incentiveU16[uid] ?? 0;
    neuron.dividends = out.dividendsU16[uid] ?? 0;
    neuron.emission = out.emission[uid] ?? 0n;
    // persist_bonds: rows are written only for uids holding a permit; every other row is emptied.
    neuron.bonds = neuron.validatorPermit ? (out.bondsU16[uid] ?? []).map(([j, b]) => [j, b]) : [];
    // Incentive landing on any hotkey of the subnet owner's coldkey (and on SubnetOwnerHotkey) is burned, not paid.
    const ownersHotkey = uid === owner || neuron.coldkey === subnet.ownerColdkey;
    const server = ownersHotkey ? 0n : (out.serverEmission[uid] ?? 0n);
    const paid = server + (out.validatorEmission[uid] ?? 0n);
    if (paid > 0n) {
      subnet.stake[neuron.hotkey] = (subnet.stake[neuron.hotkey] ?? 0n) + paid;
      ctx.state.earned[neuron.hotkey] = (ctx.state.earned[neuron.hotkey] ?? 0n) + paid;
    }
  });
}

export function runSubnetEpoch(ctx: DevnetContext, epoch: EpochFn, subnet: SubnetState): void {
  const block = ctx.state.block;
  const raoEmission = drainPending(subnet);
  if (subnet.neurons.length > 0) applyEpochOutput(ctx, subnet, epoch(epochInput(ctx, subnet, raoEmission)));
  subnet.epochIndex += 1;
  subnet.lastEpochBlock = block;
  subnet.lastMechanismStepBlock = block;
  if (subnet.pendingEpochAt > 0 && block >= subnet.pendingEpochAt) subnet.pendingEpochAt = 0;
  emit(ctx, "EpochRun", { netuid: subnet.netuid, epoch: subnet.epochIndex, emission: raoEmission.toString() });
}

/** `run_coinbase`: every subnet mints; at most MAX_EPOCHS_PER_BLOCK due epochs run, the others wait a block. */
export function runCoinbase(ctx: DevnetContext, epoch: EpochFn): void {
  let fired = 0;
  for (const subnet of sortedSubnets(ctx)) {
    accrueBlockEmission(subnet, ctx.state.emissionPerBlock);
    if (fired < MAX_EPOCHS_PER_BLOCK && shouldRunEpoch(subnet, ctx.state.block)) {
      runSubnetEpoch(ctx, epoch, subnet);
      fired += 1;
    }
  }
}

export function sortedSubnets(ctx: DevnetContext): SubnetState[] {
  return Object.values(ctx.state.subnets).sort((a, b) => a.netuid - b.netuid);
}
