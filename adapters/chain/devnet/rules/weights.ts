/**
 * set_weights as subtensor runs it (`subnets/weights.rs::internal_set_weights`), checks in the chain's order,
 * plus the `CheckWeights` transaction-extension guard that runs before any weights call is dispatched.
 */
import { type DevnetContext, type Dispatch, emit, fail, OK, subnetOf } from "../context.ts";
import { isMaxLimited, maxUpscaleU16 } from "../fixed-point.ts";
import { ownerUid, type SubnetState, uidOf } from "../state.ts";

export interface WeightsArgs {
  readonly who: string;
  readonly netuid: number;
  readonly uids: readonly number[];
  readonly values: readonly number[];
  readonly versionKey: bigint;
}

const ROOT_NETUID = 0;

/** `check_weights_min_stake`: the owner hotkey is exempt, everyone else needs StakeThreshold. */
export function hasMinStake(ctx: DevnetContext, who: string, netuid: number): boolean {
  const subnet = subnetOf(ctx, netuid);
  if (subnet) {
    const owner = ownerUid(subnet);
    if (owner !== null && uidOf(subnet, who) === owner) return true;
  }
  const stake = subnet?.stake[who] ?? 0n;
  return stake >= ctx.state.stakeThreshold;
}

/** `check_rate_limit`: LastUpdate 0 (never set) always passes. */
export function passesRateLimit(subnet: SubnetState, uid: number, block: number): boolean {
  const last = subnet.neurons[uid]?.lastUpdate;
  if (last === undefined) return false;
  if (last === 0) return true;
  return block - last >= subnet.hyperparams.weightsRateLimit;
}

/** Exactly one entry, and it is the caller's own uid. */
export function isSelfWeight(uid: number, uids: readonly number[], values: readonly number[]): boolean {
  return values.length === 1 && uids[0] === uid;
}

function hasValidatorPermit(subnet: SubnetState, uid: number, uids: readonly number[], values: readonly number[]) {
  if (isSelfWeight(uid, uids, values)) return true;
  if (ownerUid(subnet) === uid) return true;
  return subnet.neurons[uid]?.validatorPermit === true;
}

function lengthIsEnough(subnet: SubnetState, uid: number, uids: readonly number[], values: readonly number[]) {
  const minAllowed = Math.min(subnet.neurons.length, subnet.hyperparams.minAllowedWeights);
  if (subnet.netuid !== ROOT_NETUID && isSelfWeight(uid, uids, values)) return true;
  return values.length >= minAllowed;
}

function isMaxWeightLimited(subnet: SubnetState, uid: number, uids: readonly number[], upscaled: readonly number[]) {
  if (isSelfWeight(uid, uids, upscaled)) return true;
  const limit = subnet.hyperparams.maxWeightsLimit;
  if (limit === 65535) return true;
  return isMaxLimited(upscaled, limit);
}

/** `internal_set_weights`: also the path reveals and timelocked reveals take. */
export function internalSetWeights(ctx: DevnetContext, args: WeightsArgs): Dispatch {
  const { who, netuid, uids, values, versionKey } = args;
  if (netuid === ROOT_NETUID) return fail("CanNotSetRootNetworkWeights");
  if (uids.length !== values.length) return fail("WeightVecNotEqualSize");
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return fail("MechanismDoesNotExist");
  const n = subnet.neurons.length;
  if (uids.length > n) return fail("UidsLengthExceedUidsInSubNet");
  const uid = uidOf(subnet, who);
  if (uid === null) return fail("HotKeyNotRegisteredInSubNet");
  if (!hasMinStake(ctx, who, netuid)) return fail("NotEnoughStakeToSetWeights");
  const networkKey = subnet.hyperparams.weightsVersionKey;
  if (networkKey !== 0n && versionKey < networkKey) return fail("IncorrectWeightVersionKey");
  const block = ctx.state.block;
  const commitReveal = subnet.hyperparams.commitRevealWeightsEnabled;
  if (!commitReveal && !passesRateLimit(subnet, uid, block)) return fail("SettingWeightsTooFast");
  if (!hasValidatorPermit(subnet, uid, uids, values)) return fail("NeuronNoValidatorPermit");
  if (new Set(uids).size !== uids.length) return fail("DuplicateUids");
  if (uids.some((u) => !Number.isInteger(u) || u < 0 || u >= n)) return fail("UidVecContainInvalidOne");
  if (!lengthIsEnough(subnet, uid, uids, values)) return fail("WeightVecLengthIsLow");
  const upscaled = maxUpscaleU16(values);
  if (!isMaxWeightLimited(subnet, uid, uids, upscaled)) return fail("MaxWeightExceeded");
  const neuron = subnet.neurons[uid];
  if (!neuron) return fail("HotKeyNotRegisteredInSubNet");
  // Order and explicit zeros are kept as submitted (Yuma 3 bonds depend on them).
  neuron.weights = uids.map((u, i) => [u, upscaled[i] ?? 0]);
  if (!commitReveal) neuron.lastUpdate = block;
  emit(ctx, "WeightsSet", { netuid, uid });
  return OK;
}

/** The `set_weights` extrinsic: refused outright while commit-reveal is on. */
export function setWeights(ctx: DevnetContext, args: WeightsArgs): Dispatch {
  const guard = minStakeGuard(ctx, args.who, args.netuid);
  if (!guard.ok) return guard;
  // The storage default of CommitRevealWeightsEnabled is true, so an unknown netuid also lands here.
  if (subnetOf(ctx, args.netuid)?.hyperparams.commitRevealWeightsEnabled ?? true) return fail("CommitRevealEnabled");
  return internalSetWeights(ctx, args);
}

/** First step of the `CheckWeights` guard, common to every weights call. */
export function minStakeGuard(ctx: DevnetContext, who: string, netuid: number): Dispatch {
  return hasMinStake(ctx, who, netuid) ? OK : fail("NotEnoughStakeToSetWeights");
}

/** u16 inputs as the SCALE decoder would enforce them. */
export function areU16(values: readonly number[]): boolean {
  return values.every((v) => Number.isInteger(v) && v >= 0 && v <= 65535);
}
