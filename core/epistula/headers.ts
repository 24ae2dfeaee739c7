import { EpistulaSignature } from "../jobs/schema.ts";

/** HTTP header names of Epistula v2 (PROTOCOL.md section 4). */
export const EPISTULA_HEADERS = {
  version: "Epistula-Version",
  timestamp: "Epistula-Timestamp",
  uuid: "Epistula-Uuid",
  signedBy: "Epistula-Signed-By",
  signedFor: "Epistula-Signed-For",
  signature: "Epistula-Request-Signature",
} as const;

export function epistulaToHeaders(sig: EpistulaSignature): Record<string, string> {
  return {
    [EPISTULA_HEADERS.version]: sig.version,
    [EPISTULA_HEADERS.timestamp]: sig.timestamp,
    [EPISTULA_HEADERS.uuid]: sig.uuid,
    [EPISTULA_HEADERS.signedBy]: sig.signedBy,
    [EPISTULA_HEADERS.signedFor]: sig.signedFor,
    [EPISTULA_HEADERS.signature]: sig.signature,
  };
}

/** Reads the headers through a case-insensitive getter (e.g. `(n) => c.req.header(n)`); null when absent or malformed. */
export function epistulaFromHeaders(get: (name: string) => string | undefined | null): EpistulaSignature | null {
  const parsed = EpistulaSignature.safeParse({
    version: get(EPISTULA_HEADERS.version),
    timestamp: get(EPISTULA_HEADERS.timestamp),
    uuid: get(EPISTULA_HEADERS.uuid),
    signedBy: get(EPISTULA_HEADERS.signedBy),
    // Signed-For is optional on the wire; absent means the empty string in the signed message.
    signedFor: get(EPISTULA_HEADERS.signedFor) ?? "",
    signature: get(EPISTULA_HEADERS.signature),
  });
  return parsed.success ? parsed.data : null;
}
