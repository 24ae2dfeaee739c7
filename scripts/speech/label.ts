/**
 * Labels a clean 16 kHz recording by construction: frame (512 samples) = speech when its RMS > -35 dBFS, dilated
 * by one frame each side. Usage: node --import tsx scripts/speech/label.ts <clean.wav> <labels.json>
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseWav } from "../../adapters/runtime/decode-wav.ts";
import {
  FRAME_SAMPLES,
  labelFrames,
  SPEECH_SAMPLE_RATE,
  SPEECH_THRESHOLD_DBFS,
} from "../../core/tasks/speech-frames.ts";

const [wavPath, outPath] = process.argv.slice(2);
if (!wavPath || !outPath) {
  process.stderr.write("usage: label.ts <clean.wav> <labels.json>\n");
  process.exit(2);
}
const { format, samples } = parseWav(new Uint8Array(await readFile(wavPath)));
if (format.sampleRate !== SPEECH_SAMPLE_RATE || format.channels !== 1) {
  process.stderr.write(`expected 16 kHz mono, got ${format.sampleRate} Hz x${format.channels}\n`);
  process.exit(1);
}
const labels = labelFrames(samples, 1);
const speech = labels.filter((l) => l === 1).length;
await writeFile(
  outPath,
  `${JSON.stringify({ sampleRate: SPEECH_SAMPLE_RATE, frameSamples: FRAME_SAMPLES, thresholdDbfs: SPEECH_THRESHOLD_DBFS, dilateFrames: 1, labels })}\n`,
);
process.stdout.write(
  `${labels.length} frames, ${speech} speech (${((labels.length * FRAME_SAMPLES) / SPEECH_SAMPLE_RATE).toFixed(1)} s)\n`,
);
