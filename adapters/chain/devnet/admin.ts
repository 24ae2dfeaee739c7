/** Subnet creation, hyperparameter setters (owner or root) and staking: the devnet's admin surface. */
import type { SubnetHyperparams } from "../../../core/ports/chain.ts";
import { type DevnetContext, type Dispatch, emit, fail, OK, subnetOf } from "./context.ts";
import { MAX_IMMUNE_OWNER_UIDS_LIMIT, MIN_IMMUNE_OWNER_UIDS_LIMIT } from "./rules/registration.ts";
import { defaultHyperparams, emptyNeuron, type SubnetState } from "./state.ts";

export type HyperparamsPatch = Partial<Omit<SubnetHyperparams, "netuid">>;

/** `root` is sudo: it may set anything; the owner coldkey is held to the owner bounds. */
export type AdminOrigin = { readonly root: true } | { readonly coldkey: string };

export interface CreateSubnetOptions {
  readonly ownerColdkey: string;
  /** Registered as uid 0 and exempt from permit and stake checks (SubnetOwnerHotkey). */
  readonly ownerHotkey?: string;
  readonly netuid?: number;
  readonly hyperparams?: HyperparamsPatch;
}

export function createSubnet(ctx: DevnetContext, options: CreateSubnetOptions): number {
  const used = Object.values(ctx.state.subnets).map((s) => s.netuid);
  const netuid = options.netuid ?? Math.max(0, ...used) + 1;
  if (netuid <= 0 || netuid > 65535 || used.includes(netuid)) throw new Error(`netuid ${netuid} is taken or invalid`);
  const block = ctx.state.block;
  const subnet: SubnetState = {
    netuid,
    ownerColdkey: options.ownerColdkey,
    ownerHotkey: options.ownerHotkey ?? null,
    hyperparams: { ...defaultHyperparams(netuid), ...options.hyperparams, netuid },
    neurons: [],
    stake: {},
    epochIndex: 0,
    lastEpochBlock: block,
    pendingEpochAt: 0,
    lastMechanismStepBlock: block,
    pendingServerEmission: 0n,
    pendingValidatorEmission: 0n,
    ownerEmission: 0n,
    weightCommits: {},
    timelockedCommits: {},
  };
  ctx.state.subnets[String(netuid)] = subnet;
  emit(ctx, "NetworkAdded", { netuid });
  if (options.ownerHotkey !== undefined) {
    subnet.neurons.push({ ...emptyNeuron(options.ownerHotkey, options.ownerColdkey, block), lastUpdate: block });
    ctx.state.hotkeyOwner[options.ownerHotkey] = options.ownerColdkey;
    emit(ctx, "NeuronRegistered", { netuid, uid: 0, hotkey: options.ownerHotkey });
  }
  return netuid;
}

const isRoot = (origin: AdminOrigin): boolean => "root" in origin;

/** Range checks named as subtensor's admin-utils / pallet errors; owner-only bounds are skipped for root. */
function validatePatch(patch: HyperparamsPatch, current: SubnetHyperparams, root: boolean): string | null {
  const next = { ...current, ...patch };
  if (patch.revealPeriodEpochs !== undefined) {
    if (patch.revealPeriodEpochs > 100) return "RevealPeriodTooLarge";
    if (patch.revealPeriodEpochs < 1) return "RevealPeriodTooSmall";
  }
  if (patch.tempo !== undefined && !root && (patch.tempo < 360 || patch.tempo > 50_400)) return "TempoOutOfBounds";
  if (patch.tempo !== undefined && (patch.tempo < 1 || patch.tempo > 65535)) return "TempoOutOfBounds";
  const cutoff = patch.activityCutoffFactorMilli;
  if (cutoff !== undefined && (cutoff < 1000 || cutoff > 50_000)) return "ActivityCutoffFactorMilliOutOfBounds";
  if (patch.alphaLow !== undefined || patch.alphaHigh !== undefined) {
    if (next.alphaHigh < next.alphaLow) return "AlphaHighTooLow";
    if (next.alphaLow < 1638) return "AlphaLowOutOfRange";
  }
  if (patch.bondsMovingAverage !== undefined && !root && patch.bondsMovingAverage > 975_000) return "InvalidValue";
  return null;
}

export function setHyperparams(
  ctx: DevnetContext,
  origin: AdminOrigin,
  netuid: number,
  patch: HyperparamsPatch,
): Dispatch {
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("SubnetNotExists");
  const root = isRoot(origin);
  if (!root && "coldkey" in origin && origin.coldkey !== subnet.ownerColdkey) return fail("NotSubnetOwner");
  const { stakeThreshold, commitRevealVersion, ...perSubnet } = patch;
  // StakeThreshold and CommitRevealWeightsVersion are global storage values that only root may set.
  if ((stakeThreshold !== undefined || commitRevealVersion !== undefined) && !root) return fail("BadOrigin");
  const invalid = validatePatch(perSubnet, subnet.hyperparams, root);
  if (invalid) return fail(invalid);
  subnet.hyperparams = { ...subnet.hyperparams, ...perSubnet, netuid };
  if (stakeThreshold !== undefined) ctx.state.stakeThreshold = stakeThreshold;
  if (commitRevealVersion !== undefined) ctx.state.commitRevealWeightsVersion = commitRevealVersion;
  emit(ctx, "HyperparamsSet", { netuid, fields: Object.keys(patch) });
  return OK;
}

/** `sudo_set_min_non_immune_uids` (admin-utils, call 84): root only. */
export function setMinNonImmuneUids(ctx: DevnetContext, origin: AdminOrigin, netuid: number, min: number): Dispatch {
  if (!isRoot(origin)) return fail("BadOrigin");
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("SubnetNotExists");
  if (!Number.isInteger(min) || min < 0 || min > 65535) return fail("InvalidValue");
  subnet.minNonImmuneUids = min;
  emit(ctx, "MinNonImmuneUidsSet", { netuid, min });
  return OK;
}

/** `sudo_set_owner_immune_neuron_limit` (admin-utils, call 72): owner or root, 1..=10 (`set_owner_immune_neuron_limit`). */
export function setImmuneOwnerUidsLimit(
  ctx: DevnetContext,
  origin: AdminOrigin,
  netuid: number,
  limit: number,
): Dispatch {
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("SubnetNotExists");
  if (!isRoot(origin) && "coldkey" in origin && origin.coldkey !== subnet.ownerColdkey) return fail("NotSubnetOwner");
  if (!Number.isInteger(limit) || limit < MIN_IMMUNE_OWNER_UIDS_LIMIT || limit > MAX_IMMUNE_OWNER_UIDS_LIMIT)
    return fail("InvalidValue");
  subnet.immuneOwnerUidsLimit = limit;
  return OK;
}

/** Adds alpha stake to a hotkey on a subnet (the devnet has no balances; the stake simply appears). */
export function addStake(ctx: DevnetContext, hotkey: string, rao: bigint, netuid: number): Dispatch {
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("SubnetNotExists");
  if (rao <= 0n) return fail("AmountTooLow");
  subnet.stake[hotkey] = (subnet.stake[hotkey] ?? 0n) + rao;
  emit(ctx, "StakeAdded", { hotkey, netuid, rao: rao.toString() });
  return OK;
}

/** Owner trigger (`PendingEpochAt`): the next epoch fires at the next block. */
export function triggerEpoch(ctx: DevnetContext, netuid: number): Dispatch {
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("SubnetNotExists");
  subnet.pendingEpochAt = ctx.state.block + 1;
  return OK;
}
