import { handle } from "hono/aws-lambda";
import { createLogger } from "../../adapters/log/logger.ts";
import { createApp } from "./app.ts";
import type { ExpertDirectory } from "./deps.ts";
import { digitsCatalog } from "./testing/digits-catalog.ts";
import { depsFromEnv } from "./wiring.ts";

/**
 * Lambda entry (SST: `handler: "functions/api/lambda.handler"`). Only wiring: deps are built once per container.
 * TODO(lead): replace the stand-in catalog with the core/tasks registry adapted to TaskCatalog, and the empty
 * directory with the metagraph + scores view (until then no expert is routable and infer answers 503).
 */
const directory: ExpertDirectory = {
  experts: async () => [],
  metagraph: async () => ({ netuid: 0, block: 0, experts: [] }),
};

const logger = createLogger({ component: "api" });
const deps = await depsFromEnv(process.env, { tasks: digitsCatalog(), directory, logger });
export const app = createApp(deps);
export const handler = handle(app);
