import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { InitialDigitGate } from "../../core/experts/digit-gate.ts";
import {
  base64ToFloat32,
  float32ToBase64,
  type GateParams,
  GateParamsJson,
  parseGate,
  serializeGate,
} from "../../core/routing/index.ts";

/** The gate `npm run experts` trains beside the digit experts, read by the market before its API opens. */
export const DIGIT_GATE_FILE = "digits-gate.json";

const GateFile = z.object({
  kind: z.literal("digit-gate-build"),
  build: z.number().int(),
  seed: z.number().int(),
  rows: z.number().int().min(0),
  experts: z.array(
    z.object({
      id: z.string(),
      hotkey: z.string(),
      shapley: z.number(),
      copyOf: z.string().nullable(),
      admitted: z.boolean(),
      /** Brier loss per router row, float32 base64. */
      losses: z.string(),
    }),
  ),
  /** expertUids are indexes into `experts` (uids are assigned when the experts register on chain). */
  gate: GateParamsJson,
});

export interface StoredDigitGate {
  readonly build: number;
  readonly seed: number;
  readonly rows: number;
  readonly experts: readonly {
    id: string;
    hotkey: string;
    shapley: number;
    copyOf: string | null;
    admitted: boolean;
    losses: Float32Array;
  }[];
  readonly gate: GateParams;
}

export async function writeDigitGate(dir: string, gate: InitialDigitGate, build: number, seed: number): Promise<void> {
  const json: z.infer<typeof GateFile> = {
    kind: "digit-gate-build",
    build,
    seed,
    rows: gate.rows,
    experts: gate.experts.map((e, i) => ({
      ...e,
      losses: float32ToBase64(gate.losses[i] ?? new Float32Array(gate.rows)),
    })),
    gate: serializeGate(gate.gate),
  };
  await writeFile(join(dir, DIGIT_GATE_FILE), `${JSON.stringify(json)}\n`);
}

/** The stored build gate, or null when absent or unreadable (the market then opens on the prior alone). */
export async function readDigitGate(dir: string): Promise<StoredDigitGate | null> {
  const text = await readFile(join(dir, DIGIT_GATE_FILE), "utf8").catch(() => null);
  if (text === null) return null;
  try {
    const file = GateFile.parse(JSON.parse(text));
    const gate = parseGate(file.gate);
    if (!gate.ok) return null;
    const experts = file.experts.map((e) => ({ ...e, losses: base64ToFloat32(e.losses) }));
    if (experts.some((e) => e.losses.length !== file.rows)) return null;
    if (gate.params.expertUids.some((i) => experts[i] === undefined)) return null;
    return { build: file.build, seed: file.seed, rows: file.rows, experts, gate: gate.params };
  } catch {
    return null;
  }
}
