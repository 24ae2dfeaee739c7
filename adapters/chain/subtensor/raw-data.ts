import { hexToU8a } from "@polkadot/util";

/**
 * The bytes of a `Data::Raw<n>` field as @polkadot/types' `toPrimitive()` gives it: 0x-hex, or the text itself when
 * the bytes are printable UTF-8 (a JSON commitment is). The length `n` from the variant name tells the two apart
 * (hex is 2 + 2n characters, text is n bytes). Null when neither fits.
 */
export function rawFieldBytes(kind: string, value: unknown): Uint8Array | null {
  const match = /^raw(\d+)$/i.exec(kind);
  if (!match || typeof value !== "string") return null;
  const n = Number(match[1]);
  if (value.length === 2 + 2 * n && /^0x[0-9a-fA-F]*$/.test(value)) return hexToU8a(value);
  const text = new TextEncoder().encode(value);
  return text.length === n ? text : null;
}
