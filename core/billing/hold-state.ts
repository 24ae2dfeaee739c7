import type { HoldStatus } from "./schema.ts";

/** Allowed hold transitions; anything else is a conflict. Both adapters check against this table. */
const NEXT: Readonly<Record<HoldStatus, readonly HoldStatus[]>> = {
  pending: ["held", "cancelled"],
  held: ["capturing", "releasing", "captured", "released"],
  capturing: ["captured"],
  releasing: ["released"],
  captured: [],
  released: [],
  cancelled: [],
};

export const OPEN_HOLD_STATUSES: readonly HoldStatus[] = ["pending", "held", "capturing", "releasing"];

export function canTransition(from: HoldStatus, to: HoldStatus): boolean {
  return NEXT[from].includes(to);
}

export function isOpenHold(status: HoldStatus): boolean {
  return OPEN_HOLD_STATUSES.includes(status);
}

/** Entry ids of the movements a hold makes: deterministic, so replays and the sweeper hit the same ids. */
export const entryIds = {
  hold: (holdId: string) => `hold:${holdId}`,
  capture: (holdId: string) => `capture:${holdId}`,
  release: (holdId: string) => `release:${holdId}`,
} as const;
