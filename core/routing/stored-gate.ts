import { type GateParams, type ParsedGate, parseGate, serializeGate } from "./gate-params.ts";

/**
 * What the validator stores as a task's router parameters (RouterParams.params): the gate, and beside it the
 * validator's own training state (recent items' losses), which routing never reads. One item, so the gate and the
 * data it was trained on are replaced together.
 */
export interface StoredRouterJson {
  readonly gate: ReturnType<typeof serializeGate>;
  readonly training?: unknown;
}

export function storedRouter(gate: GateParams, training?: unknown): StoredRouterJson {
  return training === undefined ? { gate: serializeGate(gate) } : { gate: serializeGate(gate), training };
}

/** The gate of stored router parameters: the envelope above, or a bare serialized gate. Never throws. */
export function parseStoredGate(value: unknown): ParsedGate {
  if (typeof value === "object" && value !== null && "gate" in value) return parseGate(value.gate);
  return parseGate(value);
}
