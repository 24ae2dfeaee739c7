import type { MediaDecoders } from "../../core/tasks/decoders.ts";
import { decodeDigitPng } from "./decode-png.ts";
import { decodeWav16k } from "./decode-wav.ts";

/** The real decoders for `createTaskRegistry(mediaDecoders)`. */
export const mediaDecoders: MediaDecoders = { decodeDigitPng, decodeWav16k };
