import { z } from "zod";
import { MAX_SPEECH_SECONDS } from "../../core/tasks/speech.ts";
import { SPEECH_SAMPLE_RATE } from "../../core/tasks/speech-frames.ts";

const PCM = 1;
const IEEE_FLOAT = 3;
const EXTENSIBLE = 0xfffe;

/** The `fmt ` chunk fields we accept: PCM16 or float32, mono or stereo (down-mixed), 8–48 kHz (resampled). */
const WavFormat = z
  .object({
    format: z.union([z.literal(PCM), z.literal(IEEE_FLOAT)]),
    channels: z.union([z.literal(1), z.literal(2)]),
    sampleRate: z.number().int().min(8000).max(48000),
    bitsPerSample: z.number().int(),
  })
  .refine((f) => (f.format === PCM ? f.bitsPerSample === 16 : f.bitsPerSample === 32), {
    message: "only 16-bit PCM or 32-bit float samples are supported",
  });
export type WavFormat = z.infer<typeof WavFormat>;

export interface DecodedWav {
  format: WavFormat;
  /** Mono samples in [-1, 1] at the file's own rate. */
  samples: Float32Array;
}

/**
 * Parses a RIFF/WAVE file. Throws an Error with a short reason on anything it does not accept. `maxSeconds` is
 * checked from the header and the data chunk's length, before any sample is converted or resampled.
 */
export function parseWav(bytes: Uint8Array, maxSeconds = Number.POSITIVE_INFINITY): DecodedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a RIFF/WAVE file");
  let format: WavFormat | undefined;
  let data: Uint8Array | undefined;
  for (let at = 12; at + 8 <= bytes.length; ) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = bytes.subarray(at + 8, Math.min(bytes.length, at + 8 + size));
    if (id === "fmt ") {
      if (body.length < 16) throw new Error("fmt chunk too short");
      const fv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      let code = fv.getUint16(0, true);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format code in the first two bytes of its sub-format GUID.
      if (code === EXTENSIBLE && body.length >= 26) code = fv.getUint16(24, true);
      const parsed = WavFormat.safeParse({
        format: code,
        channels: fv.getUint16(2, true),
        sampleRate: fv.getUint32(4, true),
        bitsPerSample: fv.getUint16(14, true),
      });
      if (!parsed.success)
        throw new Error(
          `unsupported WAV format: ${parsed.error.issues[0]?.message ?? "invalid"} (${parsed.error.issues[0]?.path.join(".") ?? ""})`,
        );
      format = parsed.data;
    } else if (id === "data") {
      data = body;
    }
    at += 8 + size + (size % 2); // chunks are word-aligned
  }
  if (!format) throw new Error("no fmt chunk");
  if (!data) throw new Error("no data chunk");
  const frames = Math.floor(data.length / ((format.bitsPerSample / 8) * format.channels));
  if (frames / format.sampleRate > maxSeconds) {
    throw new Error(`audio longer than ${maxSeconds} s (${(frames / format.sampleRate).toFixed(2)} s in the file)`);
  }
  return { format, samples: toMono(data, format) };
}

/**
 * WAV bytes -> mono samples at 16 kHz (linear resampling from other rates). Clips longer than the speech task
 * takes are refused from the header, before conversion (the task would refuse them after).
 */
export function decodeWav16k(bytes: Uint8Array): number[] {
  const { format, samples } = parseWav(bytes, MAX_SPEECH_SECONDS);
  return Array.from(
    format.sampleRate === SPEECH_SAMPLE_RATE ? samples : resampleLinear(samples, format.sampleRate, SPEECH_SAMPLE_RATE),
  );
}

function toMono(data: Uint8Array, f: WavFormat): Float32Array {
  const bytesPerSample = f.bitsPerSample / 8;
  const frames = Math.floor(data.length / (bytesPerSample * f.channels));
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < f.channels; c++) {
      const at = (i * f.channels + c) * bytesPerSample;
      const v = f.format === PCM ? view.getInt16(at, true) / 32768 : view.getFloat32(at, true);
      sum += Number.isFinite(v) ? v : 0;
    }
    out[i] = Math.max(-1, Math.min(1, sum / f.channels));
  }
  return out;
}

function resampleLinear(src: Float32Array, from: number, to: number): Float32Array {
  const n = Math.floor((src.length * to) / from);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const pos = (i * from) / to;
    const k = Math.floor(pos);
    const t = pos - k;
    out[i] = (src[k] ?? 0) * (1 - t) + (src[k + 1] ?? src[k] ?? 0) * t;
  }
  return out;
}

/** Mono PCM16 WAV bytes (used by tests and fixtures). */
export function encodeWavPcm16(samples: ArrayLike<number>, sampleRate = SPEECH_SAMPLE_RATE): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const put = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
  };
  put(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  put(8, "WAVE");
  put(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, PCM, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  put(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i] ?? 0));
    view.setInt16(44 + i * 2, Math.round(v * 32767), true);
  }
  return bytes;
}
