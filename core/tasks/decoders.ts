/**
 * Media decoders the task registry needs but core cannot implement (they need libraries). Injected by the
 * composition root; adapters/runtime/decode-png.ts and decode-wav.ts provide the real ones. Both throw on bad bytes.
 */
export interface MediaDecoders {
  /** PNG bytes -> 784 grayscale values in [0,1], bright digit on dark background (the MNIST convention). */
  decodeDigitPng(bytes: Uint8Array): number[];
  /** WAV bytes -> mono samples at 16 kHz in [-1, 1]. */
  decodeWav16k(bytes: Uint8Array): number[];
}
