import { apiEnvironment } from "./environment";
import { jobs } from "./queue";
import { secrets } from "./secrets";
import { allTables } from "./tables";

/** The Hono app on Lambda behind a function URL (streaming-capable, no API Gateway timeout of 29 s). */
export const api = new sst.aws.Function("Api", {
  handler: "functions/api/lambda.handler",
  runtime: "nodejs20.x",
  url: true,
  timeout: "40 seconds",
  memory: "1024 MB",
  link: [jobs, ...allTables, secrets.AdminToken, secrets.GatewayMnemonic, secrets.ChainUrl],
  environment: apiEnvironment,
  // The experts' manifests (task, hotkey, model hash) ship with the function, as MARKET_DATA_DIR/experts.
  copyFiles: [{ from: "deploy/experts", to: "deploy/experts" }],
});
