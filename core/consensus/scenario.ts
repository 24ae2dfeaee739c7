import { z } from "zod";
import { runEpoch } from "./epoch.ts";
import type { EpochInput, EpochOutput, SparseRow } from "./types.ts";

/**
 * Scenario files in the format of shared/vectors/yuma-s1.json: `params` is the chain state before the first epoch,
 * `steps` the per-epoch overrides. Bonds and validator permits carry over from each epoch's outputs; an override
 * given in a step wins over the carried value. Pure: the CLI does the file reading.
 */

const U64_MAX = (1n << 64n) - 1n;
const uint = z.number().int().nonnegative();
const u16 = z.number().int().min(0).max(65535);
/** u64 as a JSON number (exact up to 2^53) or a decimal string, read into a bigint. */
const u64 = z
  .union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^\d+$/)])
  .transform((v) => BigInt(v))
  .refine((v) => v <= U64_MAX, "must fit in u64");
/** Stake enters the chain's I64F64, whose integer part is i64. */
const stakeValue = u64.refine((v) => v < 1n << 63n, "must be below 2^63");

const row = z
  .array(z.tuple([u16, u16]))
  .refine((r) => new Set(r.map(([j]) => j)).size === r.length, "duplicate uid in row (the chain rejects these)");

const paramFields = {
  n: z.number().int().min(0).max(65535),
  current_block: uint,
  tempo: uint,
  activity_cutoff_factor_milli: uint,
  last_update: z.array(uint),
  block_at_registration: z.array(uint),
  stake: z.array(stakeValue),
  validator_permits: z.array(z.boolean()),
  max_allowed_validators: u16,
  owner_uid: u16.nullable().optional(),
  weights: z.array(row),
  bonds: z.array(row),
  kappa: u16,
  bonds_penalty: u16,
  bonds_moving_average: uint.max(1_000_000),
  yuma3: z.boolean().optional(),
  liquid_alpha: z.boolean().optional(),
  alpha_low: u16.optional(),
  alpha_high: u16.optional(),
  alpha_sigmoid_steepness: z.number().int().min(-32768).max(32767).optional(),
  rao_emission: u64,
  stake_threshold: u64.optional(),
  last_mechanism_step_block: uint.optional(),
  earliest_commit_block: z.array(uint.nullable()).optional(),
};

const paramsSchema = z.object(paramFields).strict();
const stepSchema = z.object(paramFields).partial().strict();

export const scenarioSchema = z.object({
  params: paramsSchema,
  steps: z.array(stepSchema).optional(),
});

type Params = z.infer<typeof paramsSchema>;
type Step = z.infer<typeof stepSchema>;

const perUid = ["last_update", "block_at_registration", "stake", "validator_permits", "weights", "bonds"] as const;

/** Per-uid vectors must have n entries once a step's overrides are applied. */
function checkLengths(p: Params, where: string): string | null {
  for (const key of perUid) {
    if (p[key].length !== p.n) return `${where}.${key}: expected ${p.n} entries (n), got ${p[key].length}`;
  }
  if (p.earliest_commit_block !== undefined && p.earliest_commit_block.length !== p.n) {
    return `${where}.earliest_commit_block: expected ${p.n} entries (n), got ${p.earliest_commit_block.length}`;
  }
  if (p.owner_uid !== undefined && p.owner_uid !== null && p.owner_uid >= p.n) {
    return `${where}.owner_uid: must be below n (${p.n})`;
  }
  return null;
}

export function toEpochInput(p: Params): EpochInput {
  return {
    n: p.n,
    currentBlock: p.current_block,
    tempo: p.tempo,
    activityCutoffFactorMilli: p.activity_cutoff_factor_milli,
    lastUpdate: p.last_update,
    blockAtRegistration: p.block_at_registration,
    stake: p.stake,
    validatorPermits: p.validator_permits,
    maxAllowedValidators: p.max_allowed_validators,
    ownerUid: p.owner_uid ?? null,
    weights: p.weights as SparseRow[],
    bonds: p.bonds as SparseRow[],
    kappa: p.kappa,
    bondsPenalty: p.bonds_penalty,
    bondsMovingAverage: p.bonds_moving_average,
    yuma3: p.yuma3 ?? false,
    liquidAlpha: p.liquid_alpha ?? false,
    alphaLow: p.alpha_low ?? 45875,
    alphaHigh: p.alpha_high ?? 58982,
    alphaSigmoidSteepness: p.alpha_sigmoid_steepness ?? 1000,
    raoEmission: p.rao_emission,
    stakeThreshold: p.stake_threshold ?? 0n,
    lastMechanismStepBlock: p.last_mechanism_step_block ?? 0,
    ...(p.earliest_commit_block !== undefined ? { earliestCommitBlock: p.earliest_commit_block } : {}),
  };
}

/** One epoch's output with the vector's field names; emissions stay bigint (u64). */
export interface EpochOutputJson {
  active: boolean[];
  stake_weight_u16: number[];
  new_validator_permits: boolean[];
  consensus_u16: number[];
  validator_trust_u16: number[];
  incentive_u16: number[];
  dividends_u16: number[];
  server_emission: bigint[];
  validator_emission: bigint[];
  emission: bigint[];
  bonds_u16: [number, number][][];
}

export function toOutputJson(o: EpochOutput): EpochOutputJson {
  return {
    active: o.active,
    stake_weight_u16: o.stakeWeightU16,
    new_validator_permits: o.newValidatorPermits,
    consensus_u16: o.consensusU16,
    validator_trust_u16: o.validatorTrustU16,
    incentive_u16: o.incentiveU16,
    dividends_u16: o.dividendsU16,
    server_emission: o.serverEmission,
    validator_emission: o.validatorEmission,
    emission: o.emission,
    bonds_u16: o.bondsU16,
  };
}

export type ScenarioResult = { ok: true; outputs: EpochOutputJson[] } | { ok: false; error: string };

/** Runs every epoch of a parsed scenario (one epoch when `steps` is absent). */
export function runScenario(raw: unknown): ScenarioResult {
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join(".") : "(root)";
    return { ok: false, error: `invalid scenario at ${path}: ${issue?.message ?? "invalid"}` };
  }
  const steps: Step[] = parsed.data.steps ?? [{}];
  let state: Params = parsed.data.params;
  const outputs: EpochOutputJson[] = [];
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s] ?? {};
    if (s > 0) {
      const prev = outputs[s - 1];
      if (prev !== undefined)
        state = { ...state, bonds: prev.bonds_u16, validator_permits: prev.new_validator_permits };
    }
    state = { ...state, ...dropUndefined(step) };
    const lengthError = checkLengths(state, s === 0 ? "params" : `steps.${s}`);
    if (lengthError !== null) return { ok: false, error: `invalid scenario at ${lengthError}` };
    outputs.push(toOutputJson(runEpoch(toEpochInput(state))));
  }
  return { ok: true, outputs };
}

function dropUndefined(step: Step): Partial<Params> {
  return Object.fromEntries(Object.entries(step).filter(([, v]) => v !== undefined)) as Partial<Params>;
}

/** JSON text with u64 values printed as exact JSON numbers (JSON.stringify cannot print bigint). */
export function formatOutputs(outputs: EpochOutputJson[]): string {
  const marker = "\u0000u64:";
  const text = JSON.stringify({ outputs_per_epoch: outputs }, (_key, value: unknown) =>
    typeof value === "bigint" ? `${marker}${value.toString()}` : value,
  );
  return text.replace(/"\\u0000u64:(\d+)"/g, "$1");
}

/** Parses scenario JSON text and returns the CLI's stdout text, or a one-line error. */
export function runScenarioText(text: string): { ok: true; stdout: string } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  const result = runScenario(raw);
  return result.ok ? { ok: true, stdout: formatOutputs(result.outputs) } : result;
}
