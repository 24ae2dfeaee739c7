/** burned_register (`subnets/registration.rs`): append while there is room, else replace the uid the chain prunes. */
import { type DevnetContext, emit, subnetOf } from "../context.ts";
import { emptyNeuron, type SubnetState, uidOf } from "../state.ts";

export type RegisterResult =
  | { readonly ok: true; readonly uid: number }
  | { readonly ok: false; readonly error: string };

/** `get_neuron_is_immune` (utils/misc.rs): registered less than ImmunityPeriod blocks ago. */
function isImmune(subnet: SubnetState, uid: number, block: number): boolean {
  const neuron = subnet.neurons[uid];
  return neuron !== undefined && block - neuron.blockAtRegistration < subnet.hyperparams.immunityPeriod;
}

/** MinNonImmuneUids (`lib.rs`, ValueQuery): 10 unless root set it (`sudo_set_min_non_immune_uids`). */
export const DEFAULT_MIN_NON_IMMUNE_UIDS = 10;
/** ImmuneOwnerUidsLimit (`lib.rs`): default 1, the owner may set 1..=10 (Min/MaxImmuneOwnerUidsLimit). */
export const DEFAULT_IMMUNE_OWNER_UIDS_LIMIT = 1;
export const MIN_IMMUNE_OWNER_UIDS_LIMIT = 1;
export const MAX_IMMUNE_OWNER_UIDS_LIMIT = 10;

export const minNonImmuneUids = (subnet: SubnetState): number => subnet.minNonImmuneUids ?? DEFAULT_MIN_NON_IMMUNE_UIDS;
export const immuneOwnerUidsLimit = (subnet: SubnetState): number =>
  subnet.immuneOwnerUidsLimit ?? DEFAULT_IMMUNE_OWNER_UIDS_LIMIT;

/**
 * `get_immune_owner_uids` (subnets/registration.rs): the owner coldkey's hotkeys registered here, oldest
 * registration first (then lowest uid), cut to ImmuneOwnerUidsLimit; SubnetOwnerHotkey, when registered and not
 * already in, goes first and the list is cut to the limit again. These uids are never pruned.
 */
export function immuneOwnerUids(ctx: DevnetContext, subnet: SubnetState): number[] {
  const limit = immuneOwnerUidsLimit(subnet);
  const owned = [...subnet.neurons.entries()]
    .filter(([, n]) => ctx.state.hotkeyOwner[n.hotkey] === subnet.ownerColdkey)
    .sort(([ua, a], [ub, b]) => a.blockAtRegistration - b.blockAtRegistration || ua - ub)
    .map(([uid]) => uid)
    .slice(0, limit);
  const ownerHotkeyUid = subnet.ownerHotkey === null ? null : uidOf(subnet, subnet.ownerHotkey);
  if (ownerHotkeyUid !== null && !owned.includes(ownerHotkeyUid)) {
    owned.unshift(ownerHotkeyUid);
    if (owned.length > limit) owned.length = limit;
  }
  return owned;
}

/**
 * `get_neuron_to_prune` (pallets/subtensor/src/subnets/registration.rs, subtensor main 14bc6f9): owner-immortal uids
 * are skipped; among the rest the candidate is the lowest emission, then the earliest BlockAtRegistration, then the
 * lowest uid, tracked separately for non-immune and immune uids. A non-immune uid is pruned only while more than
 * MinNonImmuneUids non-immune uids exist; otherwise the best immune uid is pruned instead. null (the chain's
 * `NoNeuronIdAvailable`) when neither is allowed: every uid owner-immortal, or too few non-immune and none immune.
 */
export function neuronToPrune(ctx: DevnetContext, subnet: SubnetState, block: number): number | null {
  type Candidate = { emission: bigint; registered: number; uid: number };
  const beats = (a: Candidate, b: Candidate | null): boolean => {
    if (b === null) return true;
    if (a.emission !== b.emission) return a.emission < b.emission;
    if (a.registered !== b.registered) return a.registered < b.registered;
    return a.uid < b.uid;
  };
  const immortal = new Set(immuneOwnerUids(ctx, subnet));
  let free = 0;
  let bestNonImmune: Candidate | null = null;
  let bestImmune: Candidate | null = null;
  for (const [uid, neuron] of subnet.neurons.entries()) {
    if (immortal.has(uid)) continue;
    const candidate: Candidate = { emission: neuron.emission, registered: neuron.blockAtRegistration, uid };
    if (isImmune(subnet, uid, block)) {
      if (beats(candidate, bestImmune)) bestImmune = candidate;
    } else {
      free++;
      if (beats(candidate, bestNonImmune)) bestNonImmune = candidate;
    }
  }
  if (free > minNonImmuneUids(subnet) && bestNonImmune !== null) return bestNonImmune.uid;
  return bestImmune?.uid ?? null;
}

/** `clear_neuron` + the new identity: weights by the uid removed, weights to it zeroed, its bonds row dropped. */
function replaceNeuron(subnet: SubnetState, uid: number, hotkey: string, coldkey: string, block: number): void {
  const fresh = emptyNeuron(hotkey, coldkey, block);
  fresh.lastUpdate = block;
  subnet.neurons[uid] = fresh;
  for (const neuron of subnet.neurons) {
    neuron.weights = neuron.weights.map(([j, w]) => [j, j === uid ? 0 : w]);
  }
  delete subnet.weightCommits[hotkey];
}

export function burnedRegister(ctx: DevnetContext, coldkey: string, hotkey: string, netuid: number): RegisterResult {
  if (netuid === 0) return { ok: false, error: "RegistrationNotPermittedOnRootSubnet" };
  const subnet = subnetOf(ctx, netuid);
  if (!subnet) return { ok: false, error: "SubnetNotExists" };
  if (uidOf(subnet, hotkey) !== null) return { ok: false, error: "HotKeyAlreadyRegisteredInSubNet" };
  const owner = ctx.state.hotkeyOwner[hotkey];
  if (owner !== undefined && owner !== coldkey) return { ok: false, error: "NonAssociatedColdKey" };
  const block = ctx.state.block;
  let uid: number;
  if (subnet.neurons.length < subnet.hyperparams.maxAllowedUids) {
    uid = subnet.neurons.length;
    const neuron = emptyNeuron(hotkey, coldkey, block);
    neuron.lastUpdate = block;
    subnet.neurons.push(neuron);
  } else {
    const pruned = neuronToPrune(ctx, subnet, block);
    if (pruned === null) return { ok: false, error: "NoNeuronIdAvailable" };
    uid = pruned;
    replaceNeuron(subnet, uid, hotkey, coldkey, block);
  }
  ctx.state.hotkeyOwner[hotkey] = coldkey;
  emit(ctx, "NeuronRegistered", { netuid, uid, hotkey });
  return { ok: true, uid };
}
