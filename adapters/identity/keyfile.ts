import { chmod, link, mkdir, open, readFile, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { mnemonicGenerate, mnemonicValidate } from "@polkadot/util-crypto";
import { z } from "zod";
import type { Signer } from "../../core/ports/signer.ts";
import { signerFromUri } from "./sr25519.ts";

/**
 * A key kept in a file of its own (mode 0600, in a 0700 folder): a worker's serving key or a miner's wallet. The
 * file holds the secret URI (a mnemonic, optionally with //derivation); nothing here logs it or puts it in an error.
 */
export const KeyFile = z.strictObject({
  version: z.literal(1),
  /** ss58 of the key (a check on the file, and what `list` shows without deriving). */
  address: z.string().min(40).max(60),
  secretUri: z.string().min(1).max(1000),
});
export type KeyFile = z.infer<typeof KeyFile>;

/** Reads a key file; refuses one readable by others or whose secret does not derive its address. */
export async function readKeyFile(path: string): Promise<{ signer: Signer; secretUri: string }> {
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}): chmod 600 it`);
  }
  if (info.size > 10_000) throw new Error(`${path} is not a key file (too large)`);
  let parsed: KeyFile;
  try {
    parsed = KeyFile.parse(JSON.parse(await readFile(path, "utf8")));
  } catch {
    throw new Error(`${path} is not a key file`);
  }
  let signer: Signer;
  try {
    signer = signerFromUri(parsed.secretUri);
  } catch {
    throw new Error(`${path}: the secret is not a valid secret URI`);
  }
  if (signer.address !== parsed.address) throw new Error(`${path}: the secret does not derive ${parsed.address}`);
  return { signer, secretUri: parsed.secretUri };
}

/** Writes a new key file (never overwrites one: `wx`), mode 0600, its folder 0700. */
export async function writeKeyFile(path: string, secretUri: string): Promise<Signer> {
  const signer = signerFromUri(secretUri);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, "wx", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify({ version: 1, address: signer.address, secretUri } satisfies KeyFile)}\n`);
  } finally {
    await handle.close();
  }
  await chmod(tmp, 0o600);
  // A hard link fails with EEXIST when the name is taken: a key created meanwhile by another process is kept.
  try {
    await link(tmp, path);
  } finally {
    await rm(tmp, { force: true });
  }
  return signer;
}

/** A fresh 12-word mnemonic. */
export function newMnemonic(): string {
  return mnemonicGenerate(12);
}

export function isMnemonic(text: string): boolean {
  return mnemonicValidate(text);
}

/**
 * The worker's serving key: read from `path`, or generated there on first use. Answers are signed with it (not
 * with any miner's hotkey), so the operator holds no miner's secret; its address is what the gateway and the
 * validator trust (MARKET_WORKER_KEYS).
 */
export async function loadOrCreateServingKey(path: string): Promise<Signer> {
  try {
    return (await readKeyFile(path)).signer;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  try {
    return await writeKeyFile(path, newMnemonic());
  } catch (error) {
    // Two starts racing: the other one's key wins.
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return (await readKeyFile(path)).signer;
    throw error;
  }
}
