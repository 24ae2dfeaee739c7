/** A ready-made local subnet for the demo stack: netuid 1, validator with a permit, experts registered. */
import type { Chain } from "../../../core/ports/chain.ts";
import type { Signer } from "../../../core/ports/signer.ts";
import { signerFromUri } from "../../identity/sr25519.ts";
import type { HyperparamsPatch } from "./admin.ts";
import type { Devnet } from "./devnet.ts";

export interface DemoSubnetOptions {
  readonly experts: readonly { readonly hotkeyUri: string }[];
  readonly validator: string;
  readonly ownerColdkeyUri: string;
  /** Default false: plain set_weights. True: timelocked commits (CR v4) like mainnet. */
  readonly commitReveal?: boolean;
  /** Default 20 blocks. */
  readonly tempo?: number;
  /** Validator stake in rao (default 1000 alpha). */
  readonly validatorStake?: bigint;
  readonly hyperparams?: HyperparamsPatch;
  /** More validators, each under its own coldkey with its own stake (rao), registered after the experts. */
  readonly moreValidators?: readonly {
    readonly hotkeyUri: string;
    readonly coldkeyUri: string;
    readonly stake: bigint;
  }[];
}

export interface DemoSubnet {
  readonly netuid: 1;
  readonly owner: Signer;
  readonly validator: Signer;
  readonly validatorUid: number;
  readonly experts: readonly { readonly signer: Signer; readonly uid: number }[];
  readonly moreValidators: readonly { readonly signer: Signer; readonly uid: number }[];
}

/**
 * Creates netuid 1 (or reuses it when a resumed devnet already has it), registers the validator under the owner's
 * coldkey and each expert under its own (`<hotkey uri>//coldkey`), then any further validators under theirs, stakes the validators and schedules an epoch for the next block so the permit exists at once.
 * Call `identityReady()` first.
 */
export function createDemoSubnet(devnet: Devnet, options: DemoSubnetOptions): DemoSubnet {
  const owner = signerFromUri(options.ownerColdkeyUri);
  const validator = signerFromUri(options.validator);
  const netuid = 1 as const;
  if (devnet.hyperparams(netuid) === null) {
    devnet.createSubnet({ netuid, ownerColdkey: owner.address });
    const tempo = options.tempo ?? 20;
    const patch: HyperparamsPatch = {
      tempo,
      weightsRateLimit: Math.max(1, Math.floor(tempo / 4)),
      commitRevealWeightsEnabled: options.commitReveal ?? false,
      immunityPeriod: tempo * 10,
      activityCutoffFactorMilli: 50_000,
      ...options.hyperparams,
    };
    const set = devnet.setHyperparams(netuid, patch);
    if (!set.ok) throw new Error(`demo subnet hyperparameters refused: ${set.error}`);
  }
  const uidFor = (hotkey: Signer, coldkey: string): number => {
    const existing = devnet.metagraph(netuid)?.hotkeys.indexOf(hotkey.address) ?? -1;
    if (existing >= 0) return existing;
    // A hotkey stays with the coldkey that first registered it (a resumed devnet may hold older registrations).
    const result = devnet.register(devnet.state.hotkeyOwner[hotkey.address] ?? coldkey, hotkey.address, netuid);
    if (!result.ok) throw new Error(`demo registration failed: ${result.error}`);
    return result.uid;
  };
  const validatorUid = uidFor(validator, owner.address);
  // Each miner under its own coldkey, as on Bittensor: incentive on the owner coldkey's hotkeys is burned.
  const experts = options.experts.map((e) => {
    const signer = signerFromUri(e.hotkeyUri);
    return { signer, uid: uidFor(signer, signerFromUri(`${e.hotkeyUri}//coldkey`).address) };
  });
  const moreValidators = (options.moreValidators ?? []).map((v) => {
    const signer = signerFromUri(v.hotkeyUri);
    return { signer, uid: uidFor(signer, signerFromUri(v.coldkeyUri).address), stake: v.stake };
  });
  const stakes = [{ signer: validator, stake: options.validatorStake ?? 1_000_000_000_000n }, ...moreValidators];
  for (const { signer, stake } of stakes) {
    const missing = stake - devnet.stakeOf(signer.address, netuid);
    if (missing > 0n) devnet.addStake(signer.address, missing, netuid);
  }
  const permits = devnet.metagraph(netuid)?.validatorPermit;
  if ([validatorUid, ...moreValidators.map((v) => v.uid)].some((uid) => permits?.[uid] !== true))
    devnet.triggerEpoch(netuid);
  return {
    netuid,
    owner,
    validator,
    validatorUid,
    experts,
    moreValidators: moreValidators.map(({ signer, uid }) => ({ signer, uid })),
  };
}

export interface ChainRegistrationOptions {
  readonly netuid: number;
  readonly experts: readonly { readonly hotkeyUri: string }[];
  readonly ownerColdkeyUri: string;
}

/**
 * The experts' registrations as miners make them on Bittensor: `burned_register` signed by each miner's own coldkey
 * (`<hotkey uri>//coldkey`) and sent through `chain` (the subtensor adapter over the devnet's JSON-RPC with
 * MARKET_CHAIN=rpc). One after another, in the order given, so uids and registration blocks keep the demo's order
 * (a copier registers after the expert it copies). Hotkeys already on the subnet are skipped; one a resumed devnet
 * holds under the owner's coldkey is signed by the owner. Returns the experts registered now.
 */
export async function registerExpertsThroughChain(
  chain: Chain,
  devnet: Devnet,
  options: ChainRegistrationOptions,
): Promise<{ readonly signer: Signer; readonly uid: number }[]> {
  const owner = signerFromUri(options.ownerColdkeyUri);
  const registered = new Set((await chain.metagraph(options.netuid)).hotkeys);
  const added: { signer: Signer; uid: number }[] = [];
  for (const expert of options.experts) {
    const hotkey = signerFromUri(expert.hotkeyUri);
    if (registered.has(hotkey.address)) continue;
    const own = signerFromUri(`${expert.hotkeyUri}//coldkey`);
    const recorded = devnet.state.hotkeyOwner[hotkey.address];
    const coldkey = recorded === owner.address ? owner : own;
    if (recorded !== undefined && recorded !== coldkey.address)
      throw new Error(`demo registration failed: ${hotkey.address} belongs to another coldkey (${recorded})`);
    const outcome = await chain.register(coldkey, hotkey, options.netuid);
    if (!outcome.ok) throw new Error(`demo registration of ${hotkey.address} failed: ${outcome.error}`);
    const uid = Number(outcome.events.find((e) => e.startsWith("NeuronRegistered:"))?.split(":")[1] ?? -1);
    registered.add(hotkey.address);
    added.push({ signer: hotkey, uid });
  }
  return added;
}
