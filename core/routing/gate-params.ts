import { z } from "zod";

/** Bump when the parameter layout or the forward pass changes; older stored gates are then refused, not misread. */
export const GATE_VERSION = 1;

/**
 * A gate MLP: inputSize -> hidden (ReLU) -> one logit per expert. Row-major: w1[in * hidden + h], w2[h * experts + e].
 * `expertUids[e]` is the uid whose logit is output e.
 */
export interface GateParams {
  readonly version: typeof GATE_VERSION;
  readonly inputSize: number;
  readonly hidden: number;
  readonly expertUids: readonly number[];
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

/** Stored form: float32 tensors as little-endian base64 (about 4/3 bytes per weight, far under item size limits). */
export const GateParamsJson = z.object({
  kind: z.literal("mlp-gate"),
  version: z.literal(GATE_VERSION),
  inputSize: z
    .number()
    .int()
    .positive()
    .max(1 << 20),
  hidden: z.number().int().positive().max(4096),
  expertUids: z.array(z.number().int().min(0).max(65535)),
  w1: z.string(),
  b1: z.string(),
  w2: z.string(),
  b2: z.string(),
});
export type GateParamsJson = z.infer<typeof GateParamsJson>;

export function serializeGate(params: GateParams): GateParamsJson {
  return {
    kind: "mlp-gate",
    version: params.version,
    inputSize: params.inputSize,
    hidden: params.hidden,
    expertUids: [...params.expertUids],
    w1: float32ToBase64(params.w1),
    b1: float32ToBase64(params.b1),
    w2: float32ToBase64(params.w2),
    b2: float32ToBase64(params.b2),
  };
}

export type ParsedGate = { ok: true; params: GateParams } | { ok: false; error: string };

/** Parses stored gate parameters (e.g. RouterParams.params); never throws. */
export function parseGate(value: unknown): ParsedGate {
  const parsed = GateParamsJson.safeParse(value);
  if (!parsed.success) return { ok: false, error: parsed.error.message };
  const json = parsed.data;
  const experts = json.expertUids.length;
  if (new Set(json.expertUids).size !== experts) return { ok: false, error: "duplicate expert uid" };
  try {
    const params: GateParams = {
      version: GATE_VERSION,
      inputSize: json.inputSize,
      hidden: json.hidden,
      expertUids: json.expertUids,
      w1: base64ToFloat32(json.w1),
      b1: base64ToFloat32(json.b1),
      w2: base64ToFloat32(json.w2),
      b2: base64ToFloat32(json.b2),
    };
    const expected: [string, number, number][] = [
      ["w1", params.w1.length, json.inputSize * json.hidden],
      ["b1", params.b1.length, json.hidden],
      ["w2", params.w2.length, json.hidden * experts],
      ["b2", params.b2.length, experts],
    ];
    for (const [name, got, want] of expected) {
      if (got !== want) return { ok: false, error: `${name} has ${got} values, expected ${want}` };
    }
    for (const tensor of [params.w1, params.b1, params.w2, params.b2]) {
      if (!tensor.every(Number.isFinite)) return { ok: false, error: "non-finite weight" };
    }
    return { ok: true, params };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : "invalid base64" };
  }
}

/** Float32 values as little-endian base64 (NaN and infinities round-trip). */
export function float32ToBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => {
    view.setFloat32(i * 4, v, true);
  });
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Inverse of float32ToBase64; throws on malformed base64 or a byte length that is not a multiple of 4. */
export function base64ToFloat32(text: string): Float32Array {
  const binary = atob(text);
  if (binary.length % 4 !== 0) throw new RangeError("tensor byte length is not a multiple of 4");
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out = new Float32Array(binary.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
