/// <reference path="./.sst/platform/config.d.ts" />

/**
 * The cloud stack. It only imports `infra/*`, one file per concern; tables and queues are built from
 * `infra/definitions.ts`, the same data `npm start` builds its emulated tables and queues from. What differs per
 * stage (netuid, chain, prices, GPUs) is `deploy/stages/<stage>.json` (infra/stage.ts). Only the stage named
 * `production` is retained on removal and protected from `sst remove`.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "intelligence-market",
      removal: production ? "retain" : "remove",
      protect: production,
      home: "aws",
      // Builds and pushes the GPU worker image during the deploy (the same provider SST's Service uses).
      providers: { "docker-build": "0.0.14" },
    };
  },
  async run() {
    const { stage } = await import("./infra/stage");
    const tables = await import("./infra/tables");
    const queue = await import("./infra/queue");
    const models = await import("./infra/models");
    await import("./infra/secrets");
    const api = await import("./infra/api");
    await import("./infra/settler");
    await import("./infra/validator");
    await import("./infra/directory");
    await import("./infra/sweeper");
    const workers = await import("./infra/workers");
    const alarms = await import("./infra/alarms");
    return {
      api: api.api.url,
      netuid: stage.netuid,
      chain: stage.chainUrl,
      modelBucket: models.modelStore.name,
      jobsQueue: queue.jobs.url,
      validationQueue: queue.validation.url,
      settleQueue: queue.settle.url,
      alarmTopic: alarms.alarmTopic.arn,
      tables: Object.fromEntries(Object.entries(tables.tables).map(([k, t]) => [k, t.name])),
      workerRepository: workers.workers?.repository.repositoryUrl,
      workerImage: workers.workers?.imageRef,
      workerLogGroup: workers.workers?.logGroup.name,
    };
  },
});
