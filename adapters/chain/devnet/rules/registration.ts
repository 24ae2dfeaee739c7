/** burned_register (`subnets/registration.rs`): append while there is room, else replace the weakest neuron. */
import { type DevnetContext, emit, subnetOf } from "../context.ts";
import { emptyNeuron, type SubnetState, uidOf } from "../state.ts";

export type RegisterResult =
  | { readonly ok: true; readonly uid: number }
  | { readonly ok: false; readonly error: string };

function isImmune(subnet: SubnetState, uid: number, block: number): boolean {
  const neuron = subnet.neurons[uid];
  return neuron !== undefined && block - neuron.blockAtRegistration < subnet.hyperparams.immunityPeriod;
}

/**
 * `get_neuron_to_prune`: lowest emission, then earliest registration, then lowest uid; non-immune neurons first,
 * immune ones only when every candidate is immune. The owner's hotkey is never pruned.
 */
export function neuronToPrune(subnet: SubnetState, block: number): number | null {
  type Candidate = { emission: bigint; registered: number; uid: number; immune: boolean };
  const beats = (a: Candidate, b: Candidate): boolean => {
    if (a.immune !== b.immune) return !a.immune;
    if (a.emission !== b.emission) return a.emission < b.emission;
    if (a.registered !== b.registered) return a.registered < b.registered;
    return a.uid < b.uid;
  };
  let best: Candidate | null = null;
  for (const [uid, neuron] of subnet.neurons.entries()) {
    if (neuron.hotkey === subnet.ownerHotkey) continue;
    const candidate: Candidate = {
      emission: neuron.emission,
      registered: neuron.blockAtRegistration,
      uid,
      immune: isImmune(subnet, uid, block),
    };
    if (best === null || beats(candidate, best)) best = candidate;
  }
  return best === null ? null : best.uid;
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
    const pruned = neuronToPrune(subnet, block);
    if (pruned === null) return { ok: false, error: "NoNeuronIdAvailable" };
    uid = pruned;
    replaceNeuron(subnet, uid, hotkey, coldkey, block);
  }
  ctx.state.hotkeyOwner[hotkey] = coldkey;
  emit(ctx, "NeuronRegistered", { netuid, uid, hotkey });
  return { ok: true, uid };
}
