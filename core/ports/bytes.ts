/**
 * Byte work on the hot path of every job (issue 17): SHA-256 and base64 of job inputs, a few kilobytes each. Native
 * in Node (adapters/bytes/node-bytes.ts: node:crypto and Buffer, several times faster than pure JS); core/jobs/job-input.ts
 * has a pure-JS implementation with the same results, for callers that have no adapter at hand.
 */
export interface ByteCodec {
  /** Lowercase hex SHA-256 of the concatenation of `parts` (strings as their UTF-8 bytes). */
  sha256Hex(parts: readonly (string | Uint8Array)[]): string;
  /** The same digest as bytes. */
  sha256(parts: readonly (string | Uint8Array)[]): Uint8Array;
  /** Standard padded base64. */
  toBase64(bytes: Uint8Array): string;
  /**
   * Decodes base64 text into `out` (no intermediate copy) and returns how many bytes it wrote, at most out.length.
   * May be lenient with malformed text (Node's decoder skips what it cannot read): callers check the count, and
   * digest and use the decoded bytes, never the text, so two spellings of the same bytes are the same input.
   */
  fromBase64Into(text: string, out: Uint8Array): number;
}
