/** Decodes standard base64 without Node's Buffer, so core stays runtime-free. Throws on invalid text. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** Chunked so that String.fromCharCode never sees more arguments than an engine allows. */
const ENCODE_CHUNK = 0x2000;

/** Encodes bytes as standard padded base64 without Node's Buffer. */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += ENCODE_CHUNK) {
    parts.push(String.fromCharCode(...bytes.subarray(i, i + ENCODE_CHUNK)));
  }
  return btoa(parts.join(""));
}

/** Length of padded base64 text for `bytes` bytes. */
export function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * Bytes that padded base64 text decodes to, read from its length and padding alone (no decoding). Only meaningful
 * for canonical text (length a multiple of 4), which is what the schemas accept.
 */
export function base64ByteLength(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return Math.floor(text.length / 4) * 3 - padding;
}
