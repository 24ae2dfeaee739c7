import { createDynamoClient, createDynamoDocumentClient } from "../../adapters/aws/clients.ts";
import { createLogger } from "../../adapters/log/logger.ts";
import { DynamoLedger } from "../../adapters/tables/ledger.ts";
import { parseConfig } from "../../core/config/schema.ts";
import { LEDGER_TABLE, physicalName } from "../../infra/definitions.ts";

/**
 * Scheduled entry (SST CronV2, every minute): settles the holds a crash or a Lambda timeout left between two
 * writes (pending holds never applied are cancelled; held ones past their deadline released), the cloud twin of
 * the local stack's sweep timer. It needs no secret: only the ledger table.
 */
const config = parseConfig(process.env);
const log = createLogger({ level: config.MARKET_LOG_LEVEL, pretty: false, component: "sweeper" });
const ledger = new DynamoLedger({
  db: createDynamoDocumentClient(createDynamoClient({ region: config.AWS_REGION })),
  table: physicalName(config.MARKET_RESOURCE_PREFIX, LEDGER_TABLE.name),
});

export async function handler(): Promise<Record<string, number>> {
  const report = await ledger.sweepHolds(Date.now());
  log.info("holds swept", { ...report });
  return { ...report };
}
