import { resourcePrefix } from "./naming";
import { tables } from "./tables";

/** Settles holds left between two writes (crash, timeout) every minute; it touches the ledger table only. */
export const sweeper = new sst.aws.CronV2("HoldSweeper", {
  schedule: "rate(1 minute)",
  function: {
    handler: "functions/api/sweeper.handler",
    runtime: "nodejs20.x",
    timeout: "50 seconds",
    link: [tables.ledger],
    environment: { MARKET_RESOURCE_PREFIX: resourcePrefix, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
  retries: 0,
});
