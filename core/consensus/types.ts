/**
 * Input and output of one Yuma Consensus epoch (PROTOCOL.md section 1), as subtensor's `epoch_mechanism` sees them.
 * Field meanings follow `shared/vectors/yuma-s1.json`. u16 hyperparameters are passed as the raw u16 integers.
 * Sparse rows are (uid, u16) pairs as stored on chain.
 */
export type SparseRow = readonly (readonly [number, number])[];

export interface EpochInput {
  readonly n: number;
  readonly currentBlock: number;
  readonly tempo: number;
  readonly activityCutoffFactorMilli: number;
  readonly lastUpdate: readonly number[];
  readonly blockAtRegistration: readonly number[];
  /** Stake weight per uid in rao (alpha + tao_weight * tao, already combined). */
  readonly stake: readonly bigint[];
  /** ValidatorPermit from the previous epoch. */
  readonly validatorPermits: readonly boolean[];
  readonly maxAllowedValidators: number;
  readonly ownerUid: number | null;
  readonly weights: readonly SparseRow[];
  readonly bonds: readonly SparseRow[];
  readonly kappa: number;
  readonly bondsPenalty: number;
  readonly bondsMovingAverage: number;
  readonly yuma3: boolean;
  readonly liquidAlpha: boolean;
  readonly alphaLow: number;
  readonly alphaHigh: number;
  readonly alphaSigmoidSteepness: number;
  /** Rao to distribute this epoch (E). */
  readonly raoEmission: bigint;
  /** Minimum stake for a validator to count (rao); 0 by default. */
  readonly stakeThreshold?: bigint;
  /** LastMechansimStepBlock; 0 means unknown (then last_tempo = block - tempo). */
  readonly lastMechanismStepBlock?: number;
  /** Under commit-reveal: per uid, the block of its earliest live commit, or null. Masks weights older than a registration. */
  readonly earliestCommitBlock?: readonly (number | null)[];
}

export interface EpochOutput {
  readonly active: boolean[];
  readonly stakeWeightU16: number[];
  readonly newValidatorPermits: boolean[];
  readonly consensusU16: number[];
  readonly validatorTrustU16: number[];
  readonly incentiveU16: number[];
  readonly dividendsU16: number[];
  readonly serverEmission: bigint[];
  readonly validatorEmission: bigint[];
  readonly emission: bigint[];
  readonly bondsU16: [number, number][][];
}
