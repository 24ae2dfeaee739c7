import { readdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { isMnemonic, newMnemonic, readKeyFile, writeKeyFile } from "../adapters/identity/keyfile.ts";
import { identityReady } from "../adapters/identity/sr25519.ts";
import type { Signer } from "../core/ports/signer.ts";

/**
 * A miner's wallet, as btcli keeps one: `<MARKET_WALLET_DIR>/<name>/coldkey` and `<name>/hotkeys/default`, each
 * a key file of its own (mode 0600, folders 0700). The secrets never leave these files except into this process.
 */
export function walletDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = env.MARKET_WALLET_DIR?.trim();
  return dir ? dir : join(homedir(), ".market", "wallets");
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function checkWalletName(name: string): string {
  if (!NAME.test(name)) throw new Error(`wallet name ${JSON.stringify(name)}: use letters, digits, - and _ (1-64)`);
  return name;
}

const coldkeyPath = (dir: string, name: string) => join(dir, checkWalletName(name), "coldkey");
const hotkeyPath = (dir: string, name: string) => join(dir, checkWalletName(name), "hotkeys", "default");

export interface Wallet {
  readonly name: string;
  readonly coldkey: Signer;
  readonly hotkey: Signer;
}

/** Creates a wallet from the given mnemonics (fresh ones where absent); refuses to overwrite an existing one. */
export async function createWallet(
  dir: string,
  name: string,
  mnemonics: { coldkey?: string; hotkey?: string } = {},
): Promise<Wallet> {
  await identityReady();
  for (const m of [mnemonics.coldkey, mnemonics.hotkey]) {
    if (m !== undefined && !isMnemonic(m)) throw new Error("not a valid BIP39 mnemonic");
  }
  try {
    const coldkey = await writeKeyFile(coldkeyPath(dir, name), mnemonics.coldkey ?? newMnemonic());
    const hotkey = await writeKeyFile(hotkeyPath(dir, name), mnemonics.hotkey ?? newMnemonic());
    return { name, coldkey, hotkey };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`wallet ${name} already exists in ${dir}`);
    throw error;
  }
}

export async function loadWallet(dir: string, name: string): Promise<Wallet> {
  await identityReady();
  try {
    const coldkey = (await readKeyFile(coldkeyPath(dir, name))).signer;
    const hotkey = (await readKeyFile(hotkeyPath(dir, name))).signer;
    return { name, coldkey, hotkey };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(`no wallet ${name} in ${dir} (create one: market miner wallet create --wallet ${name})`);
    }
    throw error;
  }
}

export async function listWallets(dir: string): Promise<{ name: string; coldkey: string; hotkey: string }[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => NAME.test(n)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const out: { name: string; coldkey: string; hotkey: string }[] = [];
  for (const name of names) {
    try {
      const w = await loadWallet(dir, name);
      out.push({ name, coldkey: w.coldkey.address, hotkey: w.hotkey.address });
    } catch {
      // Not a wallet folder (or unreadable): not listed.
    }
  }
  return out;
}
