import { createDecipheriv } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { assetRoot } from "../runtime/assets.ts";

/**
 * The market's secrets as `sst.Secret`s linked to a function (infra/secrets.ts names): SST encrypts every link's
 * properties into `resource.enc` beside `bundle.mjs` and gives the function only the key (SST_KEY, SST_KEY_FILE),
 * so no secret value is in the function's environment. This is the decryption SST's own `Resource` does
 * (AES-256-GCM, zero nonce, tag last), without depending on the `sst` package at run time.
 */
export const SECRET_LINKS = {
  MarketAdminToken: "MARKET_ADMIN_TOKEN",
  MarketGatewayMnemonic: "MARKET_GATEWAY_MNEMONIC",
  MarketValidatorMnemonic: "MARKET_VALIDATOR_MNEMONIC",
  MarketValidatorHotkey: "MARKET_VALIDATOR_HOTKEY",
  MarketChainUrl: "MARKET_CHAIN_URL",
} as const;

const Links = z.record(z.string(), z.looseObject({ value: z.unknown().optional() }));

type Env = Readonly<Record<string, string | undefined>>;

/** The linked resources' properties, by link name; empty when the function has no encrypted links. */
export function readSstLinks(env: Env, read: (path: string) => Uint8Array = readFileSync): Record<string, unknown> {
  const key = env.SST_KEY?.trim();
  const file = env.SST_KEY_FILE?.trim();
  if (!key || !file) return {};
  const path = isAbsolute(file) ? file : join(assetRoot(env), file);
  const data = Buffer.from(read(path));
  const decipher = createDecipheriv("aes-256-gcm", Buffer.from(key, "base64"), Buffer.alloc(12, 0));
  decipher.setAuthTag(data.subarray(-16));
  const json = Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]).toString("utf8");
  const parsed = Links.safeParse(JSON.parse(json));
  if (!parsed.success) throw new Error(`${file}: not SST link data`);
  return parsed.data;
}

/**
 * The environment with each linked market secret filled in under its setting's name (core/config/schema.ts), so
 * the same parseConfig serves both. A variable the environment sets explicitly is kept.
 */
export function withLinkedSecrets(env: Env, read?: (path: string) => Uint8Array): Record<string, string | undefined> {
  const links = readSstLinks(env, read);
  const out: Record<string, string | undefined> = { ...env };
  for (const [link, name] of Object.entries(SECRET_LINKS)) {
    const value = (links[link] as { value?: unknown } | undefined)?.value;
    if (typeof value === "string" && value !== "" && !out[name]) out[name] = value;
  }
  return out;
}
