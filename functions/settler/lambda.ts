import { sr25519Verifier } from "../../adapters/identity/sr25519.ts";
import { systemClock } from "../api/deps.ts";
import type { ShadowDeps } from "../api/flow/shadow.ts";
import { taskCatalog } from "../market/catalog.ts";
import { cloudMarket } from "../market/cloud.ts";
import { NoticeSettler } from "./notice-settler.ts";

/**
 * Lambda entry of the settler (SST: `handler: "functions/settler/lambda.handler"`, subscribed to the settle queue
 * with partial batch responses). Settling signs receipts, so it needs the gateway hotkey, as the API does, and the
 * chain directory (fee split by weight); it needs no admin token.
 */
const m = await cloudMarket("api");
if (!m.gateway) throw new Error("the settler needs the gateway hotkey (MARKET_GATEWAY_MNEMONIC)");
const deps: ShadowDeps = {
  requests: m.stores.requests,
  jobs: m.stores.jobs,
  ledger: m.stores.ledger,
  shadowAnswers: m.stores.scores,
  // A settled query's unspent hold goes back to its key's spend limit and its webhook message is recorded.
  spend: m.stores.spend,
  webhooks: m.stores.webhooks,
  tasks: taskCatalog(m.registry),
  directory: m.directory,
  gatewaySigner: m.gateway,
  verifier: sr25519Verifier,
  workerKeys: m.config.MARKET_WORKER_KEYS,
  clock: systemClock,
  logger: m.log.child("settler"),
  config: { platformCutBps: m.config.MARKET_PLATFORM_CUT_BPS },
};

/** The fields of an SQS event this handler reads (no @types/aws-lambda in the project). */
interface SqsEvent {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}

/** Notices to retry (settling postponed, or it threw) are reported as batch item failures: SQS redelivers only those. */
export async function handler(event: SqsEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const failures: { itemIdentifier: string }[] = [];
  // A batch's notices of one request are settled one after another (notice-settler.ts).
  const settler = new NoticeSettler(deps);
  await Promise.all(
    event.Records.map(async (record) => {
      try {
        if ((await settler.handle(record.body)) === "retry") failures.push({ itemIdentifier: record.messageId });
      } catch (error) {
        deps.logger.error("settle failed; the notice will be retried", { messageId: record.messageId, error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  // Rollups the settles started finish now, not frozen until the next invocation (settled work is never redone).
  await deps.ledger.drain?.().catch(() => undefined);
  return { batchItemFailures: failures };
}
