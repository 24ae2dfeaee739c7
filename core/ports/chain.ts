import type { Signer } from "./signer.ts";

/** Subnet hyperparameters a validator and the devnet care about (names as subtensor's storage). */
export interface SubnetHyperparams {
  readonly netuid: number;
  readonly tempo: number;
  readonly kappa: number;
  readonly immunityPeriod: number;
  readonly minAllowedWeights: number;
  readonly maxWeightsLimit: number;
  readonly weightsVersionKey: bigint;
  readonly weightsRateLimit: number;
  readonly activityCutoffFactorMilli: number;
  readonly maxAllowedValidators: number;
  readonly maxAllowedUids: number;
  readonly bondsMovingAverage: number;
  readonly bondsPenalty: number;
  readonly commitRevealWeightsEnabled: boolean;
  readonly revealPeriodEpochs: number;
  /** CommitRevealWeightsVersion (4 = drand timelock). */
  readonly commitRevealVersion: number;
  readonly yuma3Enabled: boolean;
  readonly liquidAlphaEnabled: boolean;
  readonly alphaLow: number;
  readonly alphaHigh: number;
  readonly alphaSigmoidSteepness: number;
  readonly stakeThreshold: bigint;
}

/** Per-uid view of a subnet. Proportions are the chain's u16 values; amounts are in rao. */
export interface Metagraph {
  readonly netuid: number;
  readonly block: number;
  readonly n: number;
  readonly hotkeys: readonly string[];
  readonly coldkeys: readonly string[];
  readonly stake: readonly bigint[];
  readonly active: readonly boolean[];
  readonly validatorPermit: readonly boolean[];
  readonly lastUpdate: readonly number[];
  readonly blockAtRegistration: readonly number[];
  readonly incentive: readonly number[];
  readonly consensus: readonly number[];
  readonly dividends: readonly number[];
  readonly validatorTrust: readonly number[];
  readonly emission: readonly bigint[];
  /** Weight rows as stored: (uid, u16) pairs. */
  readonly weights: readonly (readonly (readonly [number, number])[])[];
}

/** Result of one submitted extrinsic. `error` is subtensor's error name, e.g. `SettingWeightsTooFast`. */
export type TxOutcome =
  | { readonly ok: true; readonly block: number; readonly txHash: string; readonly events: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly block?: number; readonly txHash?: string };

/**
 * The drand beacon whose pulses open timelocked weight commits (quicknet on Bittensor, the devnet's own locally),
 * with the chain's clock, so a validator can aim the reveal round at a block.
 */
export interface TimelockBeacon {
  readonly publicKeyG2: Uint8Array;
  readonly genesisTime: number;
  readonly period: number;
  /** Rounds at or below this are already public: a commit must target a later one. */
  readonly lastStoredRound: bigint;
  readonly blockTimeSeconds: number;
  /** Unix seconds at the chain's current block (wall clock on Bittensor; block-derived on the devnet). */
  readonly nowSeconds: number;
}

export interface ChainEvent {
  readonly block: number;
  readonly name: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * Chain port. Adapters: `devnet` (embedded, in process) and `subtensor` (@polkadot/api to a Bittensor node).
 * Every write is signed by the hotkey given; a write whose fate is unknown is never blindly resubmitted.
 */
export interface Chain {
  currentBlock(): Promise<number>;
  hyperparams(netuid: number): Promise<SubnetHyperparams>;
  metagraph(netuid: number): Promise<Metagraph>;
  /** Block at which the subnet's next epoch starts (runtime API where present, else the legacy formula). */
  nextEpochStartBlock(netuid: number): Promise<number>;
  /** SubnetEpochIndex. */
  epochIndex(netuid: number): Promise<number>;
  setWeights(
    signer: Signer,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    versionKey: bigint,
  ): Promise<TxOutcome>;
  commitWeights(signer: Signer, netuid: number, commitHash: Uint8Array): Promise<TxOutcome>;
  revealWeights(
    signer: Signer,
    netuid: number,
    uids: readonly number[],
    values: readonly number[],
    salt: readonly number[],
    versionKey: bigint,
  ): Promise<TxOutcome>;
  commitTimelockedWeights(
    signer: Signer,
    netuid: number,
    commit: Uint8Array,
    revealRound: bigint,
    commitRevealVersion: number,
  ): Promise<TxOutcome>;
  timelockBeacon(): Promise<TimelockBeacon>;
  /** The current burn of a registration on the subnet (SubtensorModule.Burn), in rao; the devnet burns nothing. */
  registrationCost(netuid: number): Promise<bigint>;
  /** Registers `hotkey` (owned by `coldkey`) on the subnet; returns its uid in `events` as `NeuronRegistered:<uid>`. */
  register(coldkey: Signer, hotkey: Signer, netuid: number): Promise<TxOutcome>;
  /**
   * Commitments pallet: `hotkey` (registered on the subnet) publishes `data` (at most 128 bytes, e.g. a model's
   * sha256), replacing its previous commitment; the block proves when.
   */
  setCommitment(hotkey: Signer, netuid: number, data: Uint8Array): Promise<TxOutcome>;
  /** CommitmentOf(netuid, hotkey): the data and the block it was committed in, or null. */
  commitment(netuid: number, hotkey: string): Promise<{ readonly block: number; readonly data: Uint8Array } | null>;
  /** Events emitted at or after `fromBlock` (devnet keeps them; subtensor reads them from blocks). */
  events(fromBlock: number): Promise<ChainEvent[]>;
  close(): Promise<void>;
}
