import { Command } from "commander";
import type { Schemas } from "../client/client.ts";
import { collectPages, type PageFlags, pageOptions } from "./pages.ts";
import {
  type CliIo,
  type ConnectionFlags,
  connect,
  intFlag,
  report,
  SettingError,
  withConnection,
} from "./settings.ts";

type Flags = ConnectionFlags & { readonly idempotencyKey?: string };

/** `market keys ...`: operator key management. A new key's secret is printed once and never stored. */
export function keysCommand(io: CliIo): Command {
  const keys = new Command("keys").description("create, list, inspect, top up and revoke API keys (operator)");
  const admin = (flags: ConnectionFlags) => connect(io, flags, "adminToken");

  withConnection(keys.command("create").description("a new key; its secret is shown once"), "adminToken")
    .requiredOption("--name <name>", "a label for the key")
    .option("--credits <micro>", "initial micro-credits", intFlag("--credits", 0, Number.MAX_SAFE_INTEGER))
    .option("--scopes <list>", "comma-separated: infer, read (default both)")
    .option("--expires <iso>", "expiry time (ISO 8601)")
    .option("--account <id>", "an existing account to share (its balance)")
    .option("--per-minute <n>", "rate limit: requests per minute", intFlag("--per-minute", 1, 1_000_000))
    .option("--burst <n>", "rate limit: burst", intFlag("--burst", 1, 1_000_000))
    .action(async (o: Flags & CreateFlags) => {
      if ((o.perMinute === undefined) !== (o.burst === undefined))
        throw new SettingError("--per-minute and --burst go together");
      const body: Schemas["CreateKey"] = {
        name: o.name,
        ...(o.credits !== undefined ? { credits: o.credits } : {}),
        ...(o.scopes ? { scopes: parseScopes(o.scopes) } : {}),
        ...(o.expires ? { expiresAt: isoTime(o.expires) } : {}),
        ...(o.account ? { accountId: o.account } : {}),
        ...(o.perMinute !== undefined && o.burst !== undefined
          ? { rateLimit: { perMinute: o.perMinute, burst: o.burst } }
          : {}),
      };
      report(io, o, await admin(o).createKey(body));
    });

  pageOptions(withConnection(keys.command("list").description("keys, a page at a time"), "adminToken")).action(
    async (o: Flags & PageFlags) => {
      const client = admin(o);
      report(io, o, await collectPages(o, (page) => client.listKeys(page)), (page) => page.data.map(keyRow));
    },
  );

  withConnection(
    keys.command("get").description("one key (never its secret)").argument("<keyId>"),
    "adminToken",
  ).action(async (keyId: string, o: Flags) => report(io, o, await admin(o).getKey(keyId)));
  withConnection(keys.command("revoke").description("revoke a key at once").argument("<keyId>"), "adminToken").action(
    async (keyId: string, o: Flags) => report(io, o, await admin(o).revokeKey(keyId)),
  );
  withConnection(
    keys
      .command("topup")
      .description("add micro-credits to a key's account")
      .argument("<keyId>")
      .argument("<micro>", "micro-credits to add", intFlag("<micro>", 1, Number.MAX_SAFE_INTEGER)),
    "adminToken",
  )
    .option("--idempotency-key <k>", "makes a retried top-up count once")
    .action(async (keyId: string, micro: number, o: Flags) =>
      report(io, o, await admin(o).topUp(keyId, micro, o.idempotencyKey)),
    );
  withConnection(
    keys.command("usage").description("the calling key's balance and usage (as `market usage`)"),
    "apiKey",
  ).action(async (o: Flags) => report(io, o, await connect(io, o, "apiKey").usage()));
  return keys;
}

interface CreateFlags {
  readonly name: string;
  readonly credits?: number;
  readonly scopes?: string;
  readonly expires?: string;
  readonly account?: string;
  readonly perMinute?: number;
  readonly burst?: number;
}

function parseScopes(list: string): Schemas["Scope"][] {
  return list.split(",").map((s) => {
    const scope = s.trim();
    if (scope !== "infer" && scope !== "read") throw new SettingError(`unknown scope "${scope}" (infer, read)`);
    return scope;
  });
}

function isoTime(text: string): string {
  const t = new Date(text);
  if (Number.isNaN(t.getTime())) throw new SettingError(`--expires: "${text}" is not a date`);
  return t.toISOString();
}

const keyRow = (k: Schemas["Key"]) => ({
  id: k.id,
  name: k.name,
  start: k.start,
  scopes: k.scopes.join(","),
  balance: k.balance,
  createdAt: k.createdAt,
  revokedAt: k.revokedAt,
});
