import { z } from "zod";

/** The Commitments pallet holds at most 128 bytes per hotkey (PROTOCOL.md; subtensor's CommitmentInfo field). */
export const MAX_COMMITMENT_BYTES = 128;

/**
 * What a miner commits on chain for its model (issue 15): the task, the model's sha256 and its size in bytes, as
 * compact JSON `{"t":task,"h":sha256,"s":size}` (keys short so that it fits 128 bytes with any task id we have).
 */
export const ModelCommitment = z.strictObject({
  task: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z
    .number()
    .int()
    .positive()
    .max(2 ** 40),
});
export type ModelCommitment = z.infer<typeof ModelCommitment>;

const Wire = z.strictObject({ t: z.string(), h: z.string(), s: z.number() });

export function encodeCommitment(c: ModelCommitment): Uint8Array {
  const parsed = ModelCommitment.parse(c);
  const bytes = new TextEncoder().encode(JSON.stringify({ t: parsed.task, h: parsed.sha256, s: parsed.size }));
  if (bytes.length > MAX_COMMITMENT_BYTES) throw new Error(`commitment is ${bytes.length} bytes; the chain keeps 128`);
  return bytes;
}

/** What `miner retire` commits: the hotkey keeps its uid but asks that no model be served for it. */
export const RETIREMENT = new TextEncoder().encode('{"retired":true}');

export function isRetirement(data: Uint8Array): boolean {
  return data.length === RETIREMENT.length && data.every((b, i) => b === RETIREMENT[i]);
}

/** The commitment a hotkey published, or null when the bytes are not a model commitment (any other data). */
export function decodeCommitment(data: Uint8Array): ModelCommitment | null {
  if (data.length > MAX_COMMITMENT_BYTES) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch {
    return null;
  }
  const wire = Wire.safeParse(raw);
  if (!wire.success) return null;
  const parsed = ModelCommitment.safeParse({ task: wire.data.t, sha256: wire.data.h, size: wire.data.s });
  return parsed.success ? parsed.data : null;
}
