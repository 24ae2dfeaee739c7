/**
 * `npm run -s market -- chain tlock-encrypt|tlock-decrypt`: the timelock known-answer commands.
 * Encrypt prints the ark ciphertext hex for a drand round (quicknet public key unless --public-key is given);
 * decrypt prints the plaintext hex. Bad flags exit 2, a ciphertext that does not open exits 1.
 */
import { parseArgs } from "node:util";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { z } from "zod";
import { QUICKNET, TimelockError, tlockDecrypt, tlockEncrypt } from "../core/timelock/index.ts";

const hex = (bytes?: number) =>
  z
    .string()
    .transform((s) => s.replace(/^0x/i, ""))
    .refine((s) => s.length % 2 === 0 && /^[0-9a-f]*$/i.test(s), "must be hex")
    .refine((s) => bytes === undefined || s.length === bytes * 2, `must be ${bytes} bytes`)
    .transform((s) => hexToBytes(s));

const round = z
  .string()
  .regex(/^\d+$/, "must be a non-negative integer")
  .transform((s) => BigInt(s))
  .refine((r) => r < 1n << 64n, "must fit in u64");

const EncryptFlags = z.object({
  round,
  payload: hex(),
  esk: hex(32).optional(),
  sigma: hex(32).optional(),
  nonce: hex(12).optional(),
  "public-key": hex(96).prefault(QUICKNET.publicKeyHex),
});

const DecryptFlags = z.object({
  signature: hex(48),
  ciphertext: hex(),
});

const ENCRYPT_USAGE =
  "usage: npm run -s market -- chain tlock-encrypt --round R --payload HEX [--esk HEX32 --sigma HEX32 --nonce HEX12] [--public-key HEX96]";
const DECRYPT_USAGE = "usage: npm run -s market -- chain tlock-decrypt --signature HEX48 --ciphertext HEX";

/** Flags as strings, then zod; returns the problem as text instead of throwing. */
function parseFlags<T extends z.ZodType>(
  args: string[],
  names: string[],
  schema: T,
): { ok: true; value: z.output<T> } | { ok: false; error: string } {
  let values: Record<string, unknown>;
  try {
    const options = Object.fromEntries(names.map((n) => [n, { type: "string" as const }]));
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  const parsed = schema.safeParse(values);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ") };
}

function usageError(message: string, usage: string): number {
  process.stderr.write(`error: ${message}\n${usage}\n`);
  return 2;
}

export async function runEncrypt(args: string[]): Promise<number> {
  const flags = parseFlags(args, ["round", "payload", "esk", "sigma", "nonce", "public-key"], EncryptFlags);
  if (!flags.ok) return usageError(flags.error, ENCRYPT_USAGE);
  const f = flags.value;
  try {
    const ciphertext = tlockEncrypt({
      publicKeyG2: f["public-key"],
      round: f.round,
      payload: f.payload,
      ...(f.esk === undefined ? {} : { esk: f.esk }),
      ...(f.sigma === undefined ? {} : { sigma: f.sigma }),
      ...(f.nonce === undefined ? {} : { nonce: f.nonce }),
    });
    process.stdout.write(`${bytesToHex(ciphertext)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof TimelockError) return usageError(error.message, ENCRYPT_USAGE);
    throw error;
  }
}

export async function runDecrypt(args: string[]): Promise<number> {
  const flags = parseFlags(args, ["signature", "ciphertext"], DecryptFlags);
  if (!flags.ok) return usageError(flags.error, DECRYPT_USAGE);
  try {
    const plaintext = tlockDecrypt(flags.value.signature, flags.value.ciphertext);
    process.stdout.write(`${bytesToHex(plaintext)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof TimelockError)) throw error;
    process.stderr.write(`error: ${error.code}: ${error.message}\n`);
    return 1;
  }
}
