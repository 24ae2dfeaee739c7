/**
 * Names for transaction-pool refusals. A node answers `1010: Invalid Transaction: <reason>` before a call reaches a
 * block; subtensor's SubtensorTransactionExtension reasons are numbered (`Custom error: N`, CustomTransactionError
 * in subtensor's `transaction_extension.rs`). The port promises subtensor's error names, so each is mapped to the
 * dispatch error the same rule raises inside a block (e.g. 6 → SettingWeightsTooFast for set_weights).
 */

/** What kind of call was refused: the same custom code means a different rule for a commit than for set_weights. */
export type CallKind = "setWeights" | "commit" | "reveal" | "other";

const CUSTOM_NAMES: Record<number, string | Record<CallKind, string>> = {
  1: "NotEnoughStakeToSetWeights",
  6: {
    setWeights: "SettingWeightsTooFast",
    commit: "CommittingWeightsTooFast",
    reveal: "SettingWeightsTooFast",
    other: "RateLimitExceeded",
  },
  10: "HotKeyNotRegisteredInSubNet",
  15: "InvalidRevealRound",
  16: "NoWeightsCommitFound",
  17: "RevealTooEarly",
  18: "WeightVecNotEqualSize",
  19: "UidVecContainInvalidOne",
};

/** sp_runtime InvalidTransaction reasons, as their Display text, to the variant's name. */
const INVALID: [RegExp, string][] = [
  [/bad signature/i, "BadProof"],
  [/outdated/i, "Stale"],
  [/valid in the future/i, "Future"],
  [/ancient birth block/i, "AncientBirthBlock"],
  [/inability to pay/i, "Payment"],
  [/call is not expected/i, "Call"],
  [/exhausts the resources/i, "ExhaustsResources"],
];

export interface PoolRefusal {
  /** subtensor's (or sp_runtime's) error name. */
  readonly name: string;
  /** Refused only because of the nonce: the call never ran, so it is safe to sign again with a fresh one. */
  readonly retryable: boolean;
}

/** Parses an RPC error message (`1010: Invalid Transaction: Custom error: 6`); null when it is not a pool refusal. */
export function poolRefusal(message: string, kind: CallKind): PoolRefusal | null {
  const match = /^(101[0-4]):\s*(.*)$/s.exec(message);
  if (!match) return null;
  const code = match[1];
  const text = match[2] ?? "";
  const custom = /Custom error:\s*(\d+)/.exec(text);
  if (custom) {
    const entry = CUSTOM_NAMES[Number(custom[1])];
    const name = entry === undefined ? `CustomError${custom[1]}` : typeof entry === "string" ? entry : entry[kind];
    return { name, retryable: false };
  }
  for (const [pattern, name] of INVALID)
    if (pattern.test(text)) return { name, retryable: name === "Stale" || name === "Future" };
  if (code === "1013") return { name: "AlreadyImported", retryable: false };
  if (code === "1014") return { name: "PriorityTooLow", retryable: false };
  return { name: `InvalidTransaction: ${text}`, retryable: false };
}
