/// <reference path="./.sst/platform/config.d.ts" />

/**
 * The cloud stack. It only imports `infra/*`, one file per concern; tables and queues are built from
 * `infra/definitions.ts`, the same data `npm start` builds its emulated tables and queues from.
 * `sst deploy --stage <name>` against an AWS account; the chain is Bittensor (MARKET_CHAIN_URL secret/param).
 */
export default $config({
  app(input) {
    return {
      name: "intelligence-market",
      removal: input?.stage === "production" ? "retain" : "remove",
      protect: input?.stage === "production",
      home: "aws",
    };
  },
  async run() {
    const secrets = await import("./infra/secrets");
    const tables = await import("./infra/tables");
    const queue = await import("./infra/queue");
    const api = await import("./infra/api");
    await import("./infra/workers");
    await import("./infra/validator");
    await import("./infra/sweeper");
    return {
      api: api.api.url,
      jobsQueue: queue.jobs.url,
      tables: Object.fromEntries(Object.entries(tables.tables).map(([k, t]) => [k, t.name])),
      secrets: Object.keys(secrets.secrets),
    };
  },
});
