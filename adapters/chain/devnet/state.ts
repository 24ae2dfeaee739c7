/**
 * The devnet's whole state as plain data (so it snapshots to JSON): storage items named after subtensor's.
 * Amounts are bigint rao in memory and decimal strings in snapshots (see persistence.ts).
 */
import type { ChainEvent, SubnetHyperparams } from "../../../core/ports/chain.ts";

export interface NeuronState {
  hotkey: string;
  coldkey: string;
  blockAtRegistration: number;
  /** LastUpdate: block of the last set_weights, or of the last commit under commit-reveal. */
  lastUpdate: number;
  weights: [number, number][];
  bonds: [number, number][];
  active: boolean;
  validatorPermit: boolean;
  incentive: number;
  consensus: number;
  dividends: number;
  validatorTrust: number;
  emission: bigint;
}

/** WeightCommits entry (CR v2): (hash, commit_epoch, commit_block). */
export interface HashCommit {
  hash: string;
  epoch: number;
  block: number;
}

/** TimelockedWeightCommits entry: (who, commit_block, commit bytes, reveal_round). */
export interface TimelockedCommit {
  who: string;
  block: number;
  commitHex: string;
  round: bigint;
}

export interface SubnetState {
  netuid: number;
  ownerColdkey: string;
  /** SubnetOwnerHotkey; null when the owner registered no hotkey. */
  ownerHotkey: string | null;
  hyperparams: SubnetHyperparams;
  neurons: NeuronState[];
  /** TotalHotkeyAlpha on this subnet, by hotkey address. */
  stake: Record<string, bigint>;
  epochIndex: number;
  lastEpochBlock: number;
  /** Owner trigger: an epoch fires at this block (0 = none). */
  pendingEpochAt: number;
  lastMechanismStepBlock: number;
  pendingServerEmission: bigint;
  pendingValidatorEmission: bigint;
  ownerEmission: bigint;
  weightCommits: Record<string, HashCommit[]>;
  /** Keyed by commit epoch (as a decimal string). */
  timelockedCommits: Record<string, TimelockedCommit[]>;
  /** Commitments pallet: CommitmentOf(netuid, hotkey) as (block, one Raw field). Absent in older snapshots. */
  commitments?: Record<string, StoredCommitment>;
  /** MinNonImmuneUids; absent = the chain's default (10). Root only (`sudo_set_min_non_immune_uids`). */
  minNonImmuneUids?: number;
  /** ImmuneOwnerUidsLimit; absent = the chain's default (1). */
  immuneOwnerUidsLimit?: number;
}

/** A Commitments.CommitmentOf entry: the block it was set in and its data (one `Data::Raw` field). */
export interface StoredCommitment {
  block: number;
  dataHex: string;
}

/** `Data::Raw` holds at most 128 bytes (Raw0..Raw128). */
export const MAX_COMMITMENT_BYTES = 128;

export interface BeaconState {
  secretKeyHex: string;
  publicKeyHex: string;
  /** Unix seconds of round 1 (drand's genesis). */
  genesisTime: number;
  period: number;
}

export interface DevnetState {
  block: number;
  /** Unix ms of block 0: chain time of block b is genesisTimeMs + b * blockTimeMs. */
  genesisTimeMs: number;
  blockTimeMs: number;
  /** Alpha minted per block per subnet, before the owner cut. */
  emissionPerBlock: bigint;
  stakeThreshold: bigint;
  commitRevealWeightsVersion: number;
  subnets: Record<string, SubnetState>;
  /** Owner(hotkey) -> coldkey. */
  hotkeyOwner: Record<string, string>;
  /** Total emission ever received per hotkey (all subnets). */
  earned: Record<string, bigint>;
  nonces: Record<string, number>;
  beacon: BeaconState;
  events: ChainEvent[];
}

/** Subtensor's defaults for a new subnet (PROTOCOL.md 1.6: runtime Initial* overridden by init_new_network). */
export function defaultHyperparams(netuid: number): SubnetHyperparams {
  return {
    netuid,
    tempo: 360,
    kappa: 32767,
    immunityPeriod: 5000,
    minAllowedWeights: 1,
    maxWeightsLimit: 65535,
    weightsVersionKey: 0n,
    weightsRateLimit: 100,
    activityCutoffFactorMilli: 13889,
    maxAllowedValidators: 64,
    maxAllowedUids: 256,
    bondsMovingAverage: 900_000,
    bondsPenalty: 65535,
    commitRevealWeightsEnabled: true,
    revealPeriodEpochs: 1,
    commitRevealVersion: 4,
    yuma3Enabled: true,
    liquidAlphaEnabled: false,
    alphaLow: 45875,
    alphaHigh: 58982,
    alphaSigmoidSteepness: 1000,
    stakeThreshold: 0n,
  };
}

export const OWNER_CUT_U16 = 11796;
/** At most this many subnet epochs run in one block; the rest wait a block (MaxEpochsPerBlock). */
export const MAX_EPOCHS_PER_BLOCK = 2;
/** BlocksSinceLastStep safety net (MAX_TEMPO). */
export const MAX_TEMPO = 50_400;
export const MAX_UNREVEALED_COMMITS = 10;
export const MAX_TIMELOCK_COMMIT_BYTES = 5000;
/** Events kept in memory and in snapshots; older ones are dropped first. */
export const MAX_EVENTS = 20_000;

export function emptyNeuron(hotkey: string, coldkey: string, block: number): NeuronState {
  return {
    hotkey,
    coldkey,
    blockAtRegistration: block,
    lastUpdate: 0,
    weights: [],
    bonds: [],
    active: true,
    validatorPermit: false,
    incentive: 0,
    consensus: 0,
    dividends: 0,
    validatorTrust: 0,
    emission: 0n,
  };
}

export function uidOf(subnet: SubnetState, hotkey: string): number | null {
  const uid = subnet.neurons.findIndex((n) => n.hotkey === hotkey);
  return uid < 0 ? null : uid;
}

export function ownerUid(subnet: SubnetState): number | null {
  return subnet.ownerHotkey === null ? null : uidOf(subnet, subnet.ownerHotkey);
}
