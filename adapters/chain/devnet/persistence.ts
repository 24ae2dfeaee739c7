/**
 * Snapshots: the state as JSON (bigints as decimal strings), restored through a zod schema so a damaged or
 * foreign file is refused with a message instead of corrupting the chain. Files are written atomically.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import type { DevnetState } from "./state.ts";

const big = z.union([
  z.bigint(),
  z
    .string()
    .regex(/^-?\d+$/)
    .transform((s) => BigInt(s)),
]);
const u16 = z.number().int().min(0).max(65535);
const nat = z.number().int().min(0);
const pair = z.tuple([u16, u16]);

const hyperparams = z.object({
  netuid: u16,
  tempo: u16,
  kappa: u16,
  immunityPeriod: u16,
  minAllowedWeights: u16,
  maxWeightsLimit: u16,
  weightsVersionKey: big,
  weightsRateLimit: nat,
  activityCutoffFactorMilli: nat,
  maxAllowedValidators: u16,
  maxAllowedUids: u16,
  bondsMovingAverage: nat,
  bondsPenalty: u16,
  commitRevealWeightsEnabled: z.boolean(),
  revealPeriodEpochs: nat,
  commitRevealVersion: u16,
  yuma3Enabled: z.boolean(),
  liquidAlphaEnabled: z.boolean(),
  alphaLow: u16,
  alphaHigh: u16,
  alphaSigmoidSteepness: z.number().int(),
  stakeThreshold: big,
});

const neuron = z.object({
  hotkey: z.string(),
  coldkey: z.string(),
  blockAtRegistration: nat,
  lastUpdate: nat,
  weights: z.array(pair),
  bonds: z.array(pair),
  active: z.boolean(),
  validatorPermit: z.boolean(),
  incentive: u16,
  consensus: u16,
  dividends: u16,
  validatorTrust: u16,
  emission: big,
});

const subnet = z.object({
  netuid: u16,
  ownerColdkey: z.string(),
  ownerHotkey: z.string().nullable(),
  hyperparams,
  neurons: z.array(neuron),
  stake: z.record(z.string(), big),
  epochIndex: nat,
  lastEpochBlock: nat,
  pendingEpochAt: nat,
  lastMechanismStepBlock: nat,
  pendingServerEmission: big,
  pendingValidatorEmission: big,
  ownerEmission: big,
  weightCommits: z.record(z.string(), z.array(z.object({ hash: z.string(), epoch: nat, block: nat }))),
  timelockedCommits: z.record(
    z.string(),
    z.array(z.object({ who: z.string(), block: nat, commitHex: z.string().regex(/^0x[0-9a-f]*$/), round: big })),
  ),
  commitments: z
    .record(z.string(), z.object({ block: nat, dataHex: z.string().regex(/^0x([0-9a-f]{2}){0,128}$/) }))
    .optional(),
  minNonImmuneUids: u16.optional(),
  immuneOwnerUidsLimit: u16.optional(),
});

const hex = z.string().regex(/^0x[0-9a-f]+$/);

export const devnetStateSchema = z.object({
  version: z.literal(1),
  block: nat,
  genesisTimeMs: nat,
  blockTimeMs: z.number().int().min(1),
  emissionPerBlock: big,
  stakeThreshold: big,
  commitRevealWeightsVersion: u16,
  subnets: z.record(z.string(), subnet),
  hotkeyOwner: z.record(z.string(), z.string()),
  earned: z.record(z.string(), big),
  nonces: z.record(z.string(), nat),
  beacon: z.object({ secretKeyHex: hex, publicKeyHex: hex, genesisTime: z.number(), period: z.number().positive() }),
  events: z.array(z.object({ block: nat, name: z.string(), data: z.record(z.string(), z.unknown()) })),
});

export function serializeState(state: DevnetState): string {
  return JSON.stringify({ version: 1, ...state }, (_key, value) =>
    typeof value === "bigint" ? value.toString() : value,
  );
}

/** Parses a snapshot; throws an Error naming the first bad field. */
export function parseState(json: string): DevnetState {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw new Error(`devnet snapshot is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = devnetStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`devnet snapshot is invalid at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? ""}`);
  }
  const { version: _version, ...state } = parsed.data;
  return state;
}

/** Write to a temp file in the same folder, then rename: a crash leaves the old file or the new one, never half. */
export async function writeFileAtomic(path: string, contents: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temp, contents, { mode: 0o600 });
  await rename(temp, path);
}
