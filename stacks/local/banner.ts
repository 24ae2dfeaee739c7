import type { MarketConfig } from "../../core/config/schema.ts";
import { roleName } from "../../functions/validator/adversary.ts";
import type { Market } from "../market.ts";

/**
 * What runs where, the URL, and how to get an API key: printed once the market answers. The admin token itself is
 * never printed (stdout is often a log file or a process manager's journal): the banner says which file holds it.
 */
export function printBanner(args: {
  market: Market;
  config: MarketConfig;
  dataDir: string;
  admin: { source: "env" | "generated" | "saved"; file: string };
}): void {
  const { market, config, dataDir, admin } = args;
  const dp = market.dataPlane;
  const tokenLine =
    admin.source === "env"
      ? "admin token: from MARKET_ADMIN_TOKEN"
      : `admin token: in ${admin.file} (mode 0600${admin.source === "generated" ? ", generated now" : ""})`;
  const lines = [
    "",
    "intelligence market is running",
    `  API         ${market.url}   (docs ${market.url}/docs, health ${market.url}/health)`,
    `  Dashboard   ${market.url}/`,
    `  queue       ${dp.emulated.sqs ? "fauxqs (embedded)" : "SQS"} ${dp.sqsEndpoint ?? "(AWS default endpoint)"}`,
    `  tables      ${dp.emulated.dynamo ? "dynalite (embedded)" : "DynamoDB"} ${dp.dynamoEndpoint ?? "(AWS default endpoint)"}`,
    `  chain       ${market.chain.kind === "devnet" ? `embedded devnet, netuid ${market.chain.netuid}, block every ${config.MARKET_BLOCK_MS} ms, tempo ${config.MARKET_TEMPO}${market.chain.resumed ? " (resumed)" : ""}${market.chain.rpcUrl ? `, JSON-RPC ${market.chain.rpcUrl}${config.MARKET_CHAIN === "rpc" ? " (subtensor adapter)" : " (for miners' tools)"}` : ""}` : `subtensor ${config.MARKET_CHAIN_URL}`}`,
    `  workers     ${market.workers.count} child process(es), pids ${market.workers.pids().join(", ") || "-"}`,
    `  validator   ${config.MARKET_VALIDATOR_ENABLED ? "every chain epoch" : "disabled"} (hotkey ${market.chain.validator.address}${market.validators.length > 1 ? `; ${market.validators.length} validators: ${market.validators.map((v) => roleName(v.role)).join(", ")}` : ""})`,
    `  data        ${dataDir}`,
    `  ${tokenLine}`,
    "",
    "create an API key:",
    `  curl -s -X POST ${market.url}/v1/keys -H "authorization: Bearer ${admin.source === "env" ? "$MARKET_ADMIN_TOKEN" : `$(cat ${admin.file})`}" \\`,
    `       -H 'content-type: application/json' -d '{"name":"demo","credits":1000000}'`,
    "Ctrl-C stops everything; data is kept for the next start.",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
