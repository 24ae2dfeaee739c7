/** The devnet wired to the real Yuma Consensus (core/consensus) and timelock (core/timelock). */
import { runEpoch } from "../../../core/consensus/index.ts";
import { decodeWeightsPayload, generateBeaconKey, signRound, tlockDecrypt } from "../../../core/timelock/index.ts";
import { Devnet, type DevnetOptions } from "./devnet.ts";
import type { TimelockOps } from "./rules/timelock.ts";

export const coreTimelock: TimelockOps = { generateBeaconKey, signRound, tlockDecrypt, decodeWeightsPayload };

export type CreateDevnetOptions = Omit<DevnetOptions, "epoch" | "timelock">;

export function createDevnet(options: CreateDevnetOptions = {}): Devnet {
  return new Devnet({ ...options, epoch: runEpoch, timelock: coreTimelock });
}

export function restoreDevnet(json: string, options: Omit<CreateDevnetOptions, "state"> = {}): Devnet {
  return Devnet.restore(json, { ...options, epoch: runEpoch, timelock: coreTimelock });
}
