/**
 * Everything of a Bittensor runtime the market touches, by metadata name: what the subtensor adapter (and the devnet
 * that stands in for a node) must agree with mainnet on. The metadata test compares each item with mainnet's.
 */
export const MARKET_CALLS = [
  ["SubtensorModule", "set_weights"],
  ["SubtensorModule", "commit_weights"],
  ["SubtensorModule", "reveal_weights"],
  ["SubtensorModule", "commit_timelocked_weights"],
  ["SubtensorModule", "burned_register"],
  ["Commitments", "set_commitment"],
] as const;

export const MARKET_STORAGE = [
  ...(
    [
      "Tempo",
      "Kappa",
      "ImmunityPeriod",
      "MinAllowedWeights",
      "MaxWeightsLimit",
      "WeightsVersionKey",
      "WeightsSetRateLimit",
      "ActivityCutoff",
      "MaxAllowedValidators",
      "MaxAllowedUids",
      "BondsMovingAverage",
      "BondsPenalty",
      "CommitRevealWeightsEnabled",
      "RevealPeriodEpochs",
      "Yuma3On",
      "LiquidAlphaOn",
      "AlphaValues",
      "AlphaSigmoidSteepness",
      "CommitRevealWeightsVersion",
      "StakeThreshold",
      "Uids",
      "Keys",
      "BlockAtRegistration",
      "LastUpdate",
      "Weights",
      "Bonds",
      "SubnetworkN",
      "Owner",
      "TotalHotkeyAlpha",
      "WeightCommits",
      "TimelockedWeightCommits",
      "SubnetOwnerHotkey",
    ] as const
  ).map((item) => ["SubtensorModule", item] as const),
  ["Drand", "LastStoredRound"],
  ["System", "Events"],
  ["System", "Account"],
  ["Commitments", "CommitmentOf"],
  ["Commitments", "LastCommitment"],
] as const;

/** Items from subtensor's dynamic-tempo release, absent from the late-2025 capture: the adapter falls back. */
export const LATER_STORAGE = ["ActivityCutoffFactorMilli", "SubnetEpochIndex", "LastEpochBlock"] as const;
export const LATER_RUNTIME_APIS = [["SubnetInfoRuntimeApi", "get_next_epoch_start_block"]] as const;

export const MARKET_EVENTS = [
  ["System", "ExtrinsicSuccess"],
  ["System", "ExtrinsicFailed"],
  ["SubtensorModule", "WeightsSet"],
  ["SubtensorModule", "NeuronRegistered"],
  ["SubtensorModule", "WeightsCommitted"],
  ["SubtensorModule", "WeightsRevealed"],
  ["SubtensorModule", "TimelockedWeightsCommitted"],
  ["SubtensorModule", "TimelockedWeightsRevealed"],
  ["Commitments", "Commitment"],
] as const;

/** The dispatch errors the port reports by name (the devnet's rules raise the same ones). */
export const MARKET_ERRORS = [
  "HotKeyNotRegisteredInSubNet",
  "HotKeyAlreadyRegisteredInSubNet",
  "NotEnoughStakeToSetWeights",
  "SettingWeightsTooFast",
  "CommittingWeightsTooFast",
  "CommitRevealEnabled",
  "CommitRevealDisabled",
  "DuplicateUids",
  "UidVecContainInvalidOne",
  "WeightVecNotEqualSize",
  "WeightVecLengthIsLow",
  "UidsLengthExceedUidsInSubNet",
  "NeuronNoValidatorPermit",
  "MaxWeightExceeded",
  "IncorrectWeightVersionKey",
  "IncorrectCommitRevealVersion",
  "NoWeightsCommitFound",
  "RevealTooEarly",
  "ExpiredWeightCommit",
  "InvalidRevealCommitHashNotMatch",
  "TooManyUnrevealedCommits",
  "CanNotSetRootNetworkWeights",
  "SubnetNotExists",
  "NonAssociatedColdKey",
  "NoNeuronIdAvailable",
  "RegistrationNotPermittedOnRootSubnet",
  "MechanismDoesNotExist",
] as const;

/** Commitments pallet errors the port reports by name. */
export const MARKET_COMMITMENT_ERRORS = ["AccountNotAllowedCommit", "TooManyFieldsInCommitmentInfo"] as const;

export const MARKET_RUNTIME_APIS = [
  ["NeuronInfoRuntimeApi", "get_neurons"],
  ["NeuronInfoRuntimeApi", "get_neurons_lite"],
  ["Metadata", "metadata_at_version"],
  ["Metadata", "metadata_versions"],
  ["Core", "version"],
  ["AccountNonceApi", "account_nonce"],
  ["TransactionPaymentApi", "query_info"],
] as const;
