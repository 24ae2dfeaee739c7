import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { SpeechRecording } from "../../core/tasks/speech-data.ts";
import { FRAME_SAMPLES, frameCount, SPEECH_SAMPLE_RATE } from "../../core/tasks/speech-frames.ts";
import { assetRoot } from "./assets.ts";
import { parseWav } from "./decode-wav.ts";

/** `data/speech` of the repository, or of a deployed function (its copyFiles: `data/speech` -> `data/speech`). */
export const SPEECH_DATA_DIR = join(assetRoot(), "data", "speech");

const LabelsFile = z.object({
  sampleRate: z.literal(SPEECH_SAMPLE_RATE),
  frameSamples: z.literal(FRAME_SAMPLES),
  labels: z.array(z.union([z.literal(0), z.literal(1)])),
});

/** The committed clean recording and its frame labels (regenerate with scripts/speech/make-validation-audio.sh). */
export async function loadSpeechRecording(dir: string = SPEECH_DATA_DIR): Promise<SpeechRecording> {
  const { format, samples } = parseWav(new Uint8Array(await readFile(join(dir, "clean.wav"))));
  if (format.sampleRate !== SPEECH_SAMPLE_RATE || format.channels !== 1)
    throw new Error(`${dir}/clean.wav must be 16 kHz mono`);
  const parsed = LabelsFile.safeParse(JSON.parse(await readFile(join(dir, "labels.json"), "utf8")));
  if (!parsed.success) throw new Error(`${dir}/labels.json: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  if (parsed.data.labels.length !== frameCount(samples.length)) {
    throw new Error(
      `${dir}/labels.json has ${parsed.data.labels.length} labels for ${frameCount(samples.length)} frames: regenerate it`,
    );
  }
  return { samples, labels: parsed.data.labels };
}
