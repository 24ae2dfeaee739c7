import { directoryEnvironment } from "./environment";
import { functionName, lambdaRole, readObjects, writeDirectory } from "./iam";
import { modelStore } from "./models";
import { retentionName, stage } from "./stage";

const name = functionName("directory");

/**
 * The directory follower's authority (functions/directory/lambda.ts, functions/market/chain-directory.ts): it reads
 * the chain over its public RPC endpoint (no AWS grant), the published directory (its own first-committer record and
 * the operator's experts) and models' sizes (HeadObject, authorised by s3:GetObject on models/; it never loads a
 * model), and replaces the directory. It is the only principal that writes `directory/`: no key, no table, no queue,
 * no secret (it signs nothing).
 */
export const directoryStatements = [readObjects(modelStore, ["directory", "models"]), writeDirectory(modelStore)];

/**
 * The market serves what the chain says (issue 15): each registered hotkey's latest committed model within 10 s of
 * the commitment. Every minute an invocation follows the chain for up to 58 s (functions/directory/lambda.ts),
 * rebuilding the directory on each new block, then closes its connection and returns before the next tick; reserved
 * concurrency 1 makes it the one writer (a tick that finds it still running is throttled and retried by Lambda's
 * async queue a second or so later; one older than a minute is dropped: a newer tick follows).
 *
 * The budget from the block holding a commitment to a paid answer, worst case:
 *   block imported -> seen by the follower's head poll      <= 1 s   (POLL_MS)
 *   -> directory rebuilt and published                      ~ 1-2 s  (metagraph + one commitment read per uid)
 *   -> workers re-read it (WORKER_RELOAD_MS, infra/workers.ts) <= 2 s, then fetch and load the model (< 1 s for a
 *      digit model, by digest from the bucket)
 *   -> API and settler re-read it (DIRECTORY_CACHE_MS, functions/market/cloud.ts) <= 2 s, in parallel with the workers
 *   = about 6 s. A block imported in the ~2-3 s between two invocations waits for the next one's connect (~1 s) and
 *   first refresh, which reads the chain as it is then: still within 10 s.
 *
 * Cost: 256 MB x 58 s x 43,800 invocations a month = ~635,000 GB-s, ~$10.6/month on x86 (~$5.3 at 128 MB, which
 * @polkadot/api's metadata leaves little room in), requests ~$0.01, and a few S3 requests per block (conditional
 * GETs answered 304, a PUT when something changed): cents. The alternatives: a validator-tick rebuild (the old way)
 * costs nothing more but serves a commitment up to 2 min late; an always-on Fargate task subscribed to new heads
 * (0.25 vCPU, 0.5 GB) costs ~$9/month plus a public IPv4 or a NAT ($3.65+/month) and a VPC, for the same latency.
 */
export const directoryFunction = new sst.aws.Function("DirectoryFollower", {
  name,
  handler: "functions/directory/lambda.handler",
  runtime: "nodejs22.x",
  timeout: "70 seconds",
  memory: "256 MB",
  role: lambdaRole("DirectoryFollower", name, directoryStatements).arn,
  environment: directoryEnvironment,
  concurrency: { reserved: 1 },
  // A failed invocation is not retried: the next tick, a minute later, follows from the chain as it is then.
  retries: 0,
  logging: { retention: retentionName(stage.logRetentionDays) },
  transform: {
    eventInvokeConfig: (args) => {
      args.maximumEventAgeInSeconds = 60;
    },
  },
});

export const directoryTick = new sst.aws.CronV2("DirectoryTick", {
  schedule: "rate(1 minute)",
  function: directoryFunction,
  retries: 0,
});
