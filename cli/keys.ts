import { parseArgs } from "node:util";
import { createMarketClient } from "../client/client.ts";

const USAGE = `usage: npm run market -- keys <command>
  create --name NAME [--credits MICRO] [--scopes infer,read] [--expires ISO] [--account ID] [--per-minute N --burst N]
  get <keyId>
  revoke <keyId>
  topup <keyId> <micro-credits> [--idempotency-key K]
env: MARKET_URL (e.g. http://127.0.0.1:8787), MARKET_ADMIN_TOKEN`;

/** Operator key management over the API. Prints JSON; the secret of a new key is printed once and never stored. */
export async function run(args: string[]): Promise<number> {
  const url = process.env.MARKET_URL;
  const adminToken = process.env.MARKET_ADMIN_TOKEN;
  if (!url || !adminToken) {
    process.stderr.write(`MARKET_URL and MARKET_ADMIN_TOKEN must be set\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      credits: { type: "string" },
      scopes: { type: "string" },
      expires: { type: "string" },
      account: { type: "string" },
      "per-minute": { type: "string" },
      burst: { type: "string" },
      "idempotency-key": { type: "string" },
    },
  });
  const client = createMarketClient({ baseUrl: url, adminToken });
  const [command, id, amount] = positionals;
  const int = (s: string | undefined) => (s === undefined ? undefined : Number.parseInt(s, 10));
  let result:
    | Awaited<ReturnType<typeof client.getKey>>
    | Awaited<ReturnType<typeof client.createKey>>
    | Awaited<ReturnType<typeof client.topUp>>;
  switch (command) {
    case "create": {
      if (!values.name) break;
      const perMinute = int(values["per-minute"]);
      const burst = int(values.burst);
      const credits = int(values.credits);
      result = await client.createKey({
        name: values.name,
        ...(credits !== undefined ? { credits } : {}),
        ...(values.scopes ? { scopes: values.scopes.split(",").map((s) => s.trim()) as ("infer" | "read")[] } : {}),
        ...(values.expires ? { expiresAt: new Date(values.expires).toISOString() } : {}),
        ...(values.account ? { accountId: values.account } : {}),
        ...(perMinute !== undefined && burst !== undefined ? { rateLimit: { perMinute, burst } } : {}),
      });
      return print(result);
    }
    case "get":
      if (!id) break;
      return print(await client.getKey(id));
    case "revoke":
      if (!id) break;
      return print(await client.revokeKey(id));
    case "topup": {
      const micro = int(amount);
      if (!id || micro === undefined || !Number.isSafeInteger(micro)) break;
      return print(await client.topUp(id, micro, values["idempotency-key"]));
    }
    default:
      break;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

function print(result: { ok: boolean; status: number } & ({ data: unknown } | { problem: unknown })): number {
  if ("data" in result) {
    process.stdout.write(`${JSON.stringify(result.data, null, 2)}\n`);
    return 0;
  }
  process.stderr.write(`${JSON.stringify(result.problem, null, 2)}\n`);
  return 1;
}
