import { z } from "zod";

/** One named tensor of a model's contract; `null` marks a dynamic dimension (e.g. batch). */
export const TensorSpec = z.object({
  name: z.string().min(1),
  type: z.enum(["float32", "int64"]),
  dims: z.array(z.number().int().positive().nullable()),
});
export type TensorSpec = z.infer<typeof TensorSpec>;

/**
 * An expert = a registered neuron serving one model for one task. It names the miner's hotkey by its public
 * address only: the miner keeps the secret (issue 15), and a `hotkeyUri` in an old file is dropped on read.
 * `runner` says how the runtime adapter feeds the model: `classifier` (one batched call: input -> probabilities)
 * or `silero-vad` (stateful frame loop; see MODELS.md).
 */
export const ExpertManifest = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  task: z.string().min(1),
  /** ss58 address of the expert's sr25519 hotkey. */
  hotkey: z.string().min(40).max(60),
  /**
   * Removed (issue 15): a miner's secret never travels with its manifest. Whatever an old file or caller puts here
   * is dropped on parse (always undefined after it); the key remains only so that older callers still compile.
   */
  hotkeyUri: z
    .unknown()
    .transform(() => undefined)
    .optional(),
  runner: z.enum(["classifier", "silero-vad"]),
  model: z.object({
    /** Path of the .onnx file, absolute or relative to the repository root. */
    path: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    inputs: z.array(TensorSpec).min(1),
    outputs: z.array(TensorSpec).min(1),
  }),
  /** What the expert is (for reports and the demo); not trusted by scoring. */
  description: z.string().default(""),
});
export type ExpertManifest = z.infer<typeof ExpertManifest>;
