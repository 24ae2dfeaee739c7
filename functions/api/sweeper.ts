import { createDynamoClient, createSqsClient } from "../../adapters/aws/clients.ts";
import { createLogger } from "../../adapters/log/logger.ts";
import { parseConfig } from "../../core/config/schema.ts";
import { drainingHandler } from "../market/lambda-drain.ts";
import { marketStores } from "../market/stores.ts";
import { keepAnsweredHolds } from "../settler/settler.ts";
import { systemClock } from "./deps.ts";
import { sendDueWebhooks } from "./webhooks/sender.ts";

/**
 * Scheduled entry (SST CronV2, every minute): settles the holds a crash or a Lambda timeout left between two
 * writes (pending holds never applied are cancelled; held ones past their deadline released), the cloud twin of
 * the local stack's sweep timer. It needs no secret: the ledger table, reads of the jobs table, and SendMessage on
 * the settle queue (a hold whose query has answers in is handed to the settler instead of released for free).
 */
const config = parseConfig(process.env);
const log = createLogger({ level: config.MARKET_LOG_LEVEL, pretty: false, component: "sweeper" });
const region = { region: config.AWS_REGION };
const stores = marketStores(createSqsClient(region), createDynamoClient(region), config.MARKET_RESOURCE_PREFIX);
const beforeRelease = keepAnsweredHolds({ ...stores, logger: log });

const webhookSender = {
  outbox: stores.webhooks,
  keys: stores.keys,
  clock: systemClock,
  logger: log,
  // The cloud never calls private or loopback addresses (SSRF), whatever a query named.
  policy: { allowLocal: false },
};

/**
 * Each tick also sends the webhook messages that are due (a minute's granularity on top of their backoff). Drained
 * before it returns: a release starts its account's rollup in the background, and a sweep of that account that
 * then throws (or a legacy hold's migration) leaves it running when the container freezes.
 */
export const handler = drainingHandler(sweep, stores.ledger);

async function sweep(): Promise<Record<string, number>> {
  const report = await stores.ledger.sweepHolds(Date.now(), { beforeRelease });
  log.info("holds swept", { ...report });
  const webhooks = await sendDueWebhooks(webhookSender, 100).catch((error: unknown) => {
    log.error("webhook sending failed", { error });
    return { delivered: 0, retrying: 0, failed: 0 };
  });
  return { ...report, ...Object.fromEntries(Object.entries(webhooks).map(([k, v]) => [`webhooks_${k}`, v])) };
}
