import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CONFIG,
  type Evaluated,
  evaluateStack,
  functionStatements,
  ROOT,
  type SstConfig,
  statementsOfRole,
  workerContainer,
} from "./stack.ts";
import { ACCOUNT, installStandIns, REGION, type Recorded, resolve, SECRET_MARK, type Statement } from "./stand-ins.ts";

/**
 * The cloud stack's resource graph, evaluated from `sst.config.ts` and `infra/` with recording stand-ins for SST's
 * globals (stand-ins.ts): who may do what (exactly), no wildcard, dead-letter queues, alarms, scaling on backlog,
 * production retained and protected, and no secret in plain configuration.
 */

const STAGE_MODULE = join(ROOT, "infra/stage.ts");
const HOTKEY = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
/** The workers' serving key's public address (the secret itself is MarketWorkerServingKey). */
const SERVING_KEY = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
/** The gateway's address (the MarketGatewayMnemonic secret's), which workers trust to sign paid queries. */
const GATEWAY = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
const PRODUCTION = {
  netuid: 42,
  validatorHotkey: HOTKEY,
  workerKeys: [SERVING_KEY],
  gatewayHotkey: GATEWAY,
  alarmEmail: "ops@example.com",
};
const dir = mkdtempSync(join(tmpdir(), "market-stage-test-"));
const evaluate = evaluateStack;

afterEach(() => {
  vi.unstubAllEnvs();
});

// --- reading the graph ---------------------------------------------------------------------------------------

const prefix = (stage: string) => `intelligence-market-${stage}-`;
const table = (stage: string, name: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${prefix(stage)}${name}`;
const gsi = (stage: string, name: string) => `${table(stage, name)}/index/gsi1`;
const queue = (stage: string, name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${prefix(stage)}${name}`;
const parameter = (stage: string, name: string) =>
  `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/intelligence-market/${stage}/${name}`;
const lambdaLogs = (stage: string, fn: string) =>
  `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${prefix(stage)}${fn}:*`;

/** "action resource" pairs, the unit least privilege is judged in. */
function grants(statements: readonly Statement[]): string[] {
  for (const s of statements) expect(s.Effect).toBe("Allow");
  return [...new Set(statements.flatMap((s) => s.Action.flatMap((a) => s.Resource.map((r) => `${a} ${r}`))))].sort();
}

function expected(rows: readonly (readonly [readonly string[], readonly string[]])[]): string[] {
  return [...new Set(rows.flatMap(([actions, resources]) => actions.flatMap((a) => resources.map((r) => `${a} ${r}`))))]
    .sort()
    .filter((x) => x.length > 0);
}

const ddb = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`);
const LEDGER_ALL = ddb("BatchGetItem", "BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem");
const CONSUME = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"];
const LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"];
const SEND = ["sqs:GetQueueUrl", "sqs:SendMessage"];

function environmentOf(fn: Recorded): Record<string, string> {
  return resolve(fn.args.environment) as Record<string, string>;
}

const containerOf = workerContainer;

// --- the production stage ------------------------------------------------------------------------------------

describe("production", () => {
  let prod: Evaluated;
  const S = "production";
  beforeAll(async () => {
    prod = await evaluate(S, PRODUCTION);
  });

  it("is retained and protected; every other stage is removed and unprotected", async () => {
    const config = (await import(CONFIG)).default as SstConfig;
    expect(config.app({ stage: "production" })).toMatchObject({ removal: "retain", protect: true });
    for (const stage of ["prod", "dev", "pr-12"]) {
      expect(config.app({ stage })).toMatchObject({ removal: "remove", protect: false });
    }
    for (const t of prod.graph.byType("sst:aws:Dynamo")) expect(t.args.deletionProtection).toBe(true);
  });

  it("expires unconfirmed model uploads after a day, and only those", () => {
    const g = prod.graph;
    const rule = g.one("aws:s3:BucketLifecycleConfigurationV2", "ModelStoreUploadsExpiry");
    expect(resolve(rule.args.bucket)).toBe(resolve(g.one("sst:aws:Bucket", "ModelStore").instance.name));
    expect(resolve(rule.args.rules)).toEqual([
      expect.objectContaining({
        status: "Enabled",
        filter: { prefix: "uploads/" },
        expiration: { days: 1 },
        noncurrentVersionExpiration: { noncurrentDays: 1 },
      }),
    ]);
  });

  it("gives each principal exactly the actions its code calls, on exactly its resources", () => {
    const g = prod.graph;
    const bucket = resolve(g.one("sst:aws:Bucket", "ModelStore").instance.arn);
    // The functions read only the expert directory; the workers also the models (by sha256).
    const directory = `${bucket}/directory/*`;
    const models = `${bucket}/models/*`;
    const uploads = `${bucket}/uploads/*`;
    expect(grants(functionStatements(g, "Api"))).toEqual(
      expected([
        [ddb("DeleteItem", "GetItem", "PutItem", "Query", "Scan", "UpdateItem"), [table(S, "keys"), gsi(S, "keys")]],
        [LEDGER_ALL, [table(S, "ledger"), gsi(S, "ledger")]],
        [
          ddb("BatchGetItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem"),
          [table(S, "jobs"), gsi(S, "jobs")],
        ],
        [ddb("GetItem", "Query"), [table(S, "scores"), gsi(S, "scores")]],
        [SEND, [queue(S, "jobs")]],
        [["ssm:GetParameters"], [parameter(S, "MarketAdminToken"), parameter(S, "MarketGatewayMnemonic")]],
        [["s3:GetObject"], [directory]],
        // A miner's upload: presigned PUTs, read and delete on confirm under uploads/; the checked model to models/.
        [["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [uploads]],
        [["s3:PutObject"], [models]],
        [LOGS, [lambdaLogs(S, "api")]],
      ]),
    );
    expect(grants(functionStatements(g, "Validator"))).toEqual(
      expected([
        // An epoch's jobs are read and written in batches (JobStore.createMany): no single put.
        [ddb("BatchGetItem", "BatchWriteItem", "GetItem", "UpdateItem"), [table(S, "jobs")]],
        [ddb("GetItem", "PutItem", "Query", "UpdateItem"), [table(S, "scores"), gsi(S, "scores")]],
        // Validation jobs go to their own queue, never in front of clients' paid jobs (issue 17).
        [SEND, [queue(S, "validation")]],
        [["sqs:SendMessage"], [queue(S, "validator-failures")]],
        [["ssm:GetParameters"], [parameter(S, "MarketValidatorMnemonic")]],
        [["s3:GetObject"], [directory]],
        [LOGS, [lambdaLogs(S, "validator")]],
      ]),
    );
    // The directory's only writer: reads it and models' sizes, replaces it; no table, queue or secret.
    expect(grants(functionStatements(g, "DirectoryFollower"))).toEqual(
      expected([
        [["s3:GetObject"], [directory, models]],
        [["s3:PutObject"], [directory]],
        [LOGS, [lambdaLogs(S, "directory")]],
      ]),
    );
    expect(grants(functionStatements(g, "HoldSweeper"))).toEqual(
      expected([
        [LEDGER_ALL, [table(S, "ledger"), gsi(S, "ledger")]],
        [ddb("BatchGetItem", "GetItem", "Query", "UpdateItem"), [table(S, "jobs"), gsi(S, "jobs")]],
        [ddb("GetItem"), [table(S, "keys")]],
        [SEND, [queue(S, "settle")]],
        [LOGS, [lambdaLogs(S, "sweeper")]],
      ]),
    );
    expect(grants(functionStatements(g, "SettleSubscriber"))).toEqual(
      expected([
        [ddb("BatchGetItem", "GetItem", "PutItem", "UpdateItem"), [table(S, "jobs")]],
        [
          ddb("BatchGetItem", "BatchWriteItem", "GetItem", "PutItem", "Query", "UpdateItem"),
          [table(S, "ledger"), gsi(S, "ledger")],
        ],
        [ddb("GetItem", "PutItem", "Query"), [table(S, "scores"), gsi(S, "scores")]],
        [
          ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
          [queue(S, "settle")],
        ],
        [["ssm:GetParameters"], [parameter(S, "MarketGatewayMnemonic")]],
        [["s3:GetObject"], [directory]],
        [LOGS, [lambdaLogs(S, "settler")]],
      ]),
    );
    expect(grants(statementsOfRole(g.one("aws:iam:Role", "GpuTaskRole")))).toEqual(
      expected([
        [CONSUME, [queue(S, "jobs"), queue(S, "validation")]],
        [SEND, [queue(S, "jobs-dlq"), queue(S, "settle"), queue(S, "validation-dlq")]],
        [ddb("BatchGetItem", "GetItem", "PutItem", "UpdateItem"), [table(S, "jobs")]],
        [["s3:GetObject"], [directory, models]],
      ]),
    );
    const repository = String(resolve(g.one("aws:ecr:Repository", "GpuWorkerRepository").instance.arn));
    const logGroup = String(resolve(g.one("aws:cloudwatch:LogGroup", "GpuWorkerLogs").instance.arn));
    expect(grants(statementsOfRole(g.one("aws:iam:Role", "GpuTaskExecutionRole")))).toEqual(
      expected([
        [["ecr:GetAuthorizationToken"], ["*"]],
        [["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [repository]],
        [LOGS, [`${logGroup}:*`]],
        [["ssm:GetParameters"], [parameter(S, "MarketWorkerServingKey")]],
      ]),
    );
  });

  it("has no wildcard action or resource, no link and no managed policy but the ECS agent's", () => {
    const g = prod.graph;
    for (const fn of g.byType("sst:aws:Function")) {
      // `link` on a Dynamo/Queue/Bucket would add dynamodb:*, sqs:*, s3:*; `permissions` are ignored with a role.
      expect(fn.args.link, fn.name).toBeUndefined();
      expect(fn.args.permissions, fn.name).toBeUndefined();
      expect(fn.args.role, fn.name).toBeDefined();
    }
    for (const role of g.byType("aws:iam:Role")) {
      for (const s of statementsOfRole(role)) {
        for (const action of s.Action) expect(action, role.name).not.toContain("*");
        for (const resource of s.Resource) {
          // The only bare "*": ecr:GetAuthorizationToken, which has no resource-level form in IAM.
          if (resource === "*") expect(s.Action, role.name).toEqual(["ecr:GetAuthorizationToken"]);
          // A trailing "/*" (objects of the model bucket) or ":*" (the streams of one log group) only.
          else expect(resource.replace(/(\/\*|:\*)$/, ""), `${role.name}: ${resource}`).not.toContain("*");
        }
      }
      const managed = (resolve(role.args.managedPolicyArns) as string[] | undefined) ?? [];
      if (role.name === "GpuInstanceRole") {
        expect(managed).toEqual(["arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"]);
      } else expect(managed, role.name).toEqual([]);
    }
  });

  it("keeps keys, ledger and scores out of the workers' reach", () => {
    const workerGrants = grants(statementsOfRole(prod.graph.one("aws:iam:Role", "GpuTaskRole")));
    for (const name of ["keys", "ledger", "scores"]) {
      expect(workerGrants.filter((g) => g.includes(`table/${prefix(S)}${name}`))).toEqual([]);
    }
    expect(workerGrants.some((g) => g.startsWith("s3:Put"))).toBe(false);
  });

  it("puts no secret in plain configuration: secrets are SSM SecureStrings read by name", () => {
    const g = prod.graph;
    const secretSettings = ["MARKET_ADMIN_TOKEN", "MARKET_GATEWAY_MNEMONIC", "MARKET_VALIDATOR_MNEMONIC"];
    for (const fn of g.byType("sst:aws:Function")) {
      const env = environmentOf(fn);
      for (const [name, value] of Object.entries(env)) {
        expect(secretSettings, `${fn.name}.${name}`).not.toContain(name);
        expect(value, `${fn.name}.${name}`).not.toContain(SECRET_MARK);
      }
    }
    const container = containerOf(g);
    expect(JSON.stringify(container.environment)).not.toContain(SECRET_MARK);
    // The workers hold their serving key only (issue 15): no miner's hotkey secret, in any form.
    const containerNames = container.environment.map((e) => e.name);
    expect(containerNames).not.toContain("WORKER_HOTKEY_URIS");
    expect(containerNames).not.toContain("WORKER_SERVING_KEY_URI");
    expect(container.secrets).toEqual([
      { name: "WORKER_SERVING_KEY_URI", valueFrom: parameter(S, "MarketWorkerServingKey") },
    ]);
    // Its public address is what the API, the settler and the validator trust; no function gets the secret.
    for (const name of ["Api", "Validator", "SettleSubscriber"]) {
      const env = environmentOf(g.one("sst:aws:Function", name));
      expect(env.MARKET_WORKER_KEYS, name).toBe(SERVING_KEY);
      expect(Object.keys(env), name).not.toContain("WORKER_SERVING_KEY_URI");
      expect(env.MARKET_SECRET_PARAMETERS ?? "", name).not.toContain("MarketWorkerServingKey");
    }
    // Each function is told the parameter names of exactly the secrets its role may read.
    expect(JSON.parse(environmentOf(g.one("sst:aws:Function", "Api")).MARKET_SECRET_PARAMETERS ?? "")).toEqual({
      MARKET_ADMIN_TOKEN: "/intelligence-market/production/MarketAdminToken",
      MARKET_GATEWAY_MNEMONIC: "/intelligence-market/production/MarketGatewayMnemonic",
    });
    expect(JSON.parse(environmentOf(g.one("sst:aws:Function", "Validator")).MARKET_SECRET_PARAMETERS ?? "")).toEqual({
      MARKET_VALIDATOR_MNEMONIC: "/intelligence-market/production/MarketValidatorMnemonic",
    });
    // The settler signs receipts: the gateway mnemonic, never the admin token.
    expect(
      JSON.parse(environmentOf(g.one("sst:aws:Function", "SettleSubscriber")).MARKET_SECRET_PARAMETERS ?? ""),
    ).toEqual({ MARKET_GATEWAY_MNEMONIC: "/intelligence-market/production/MarketGatewayMnemonic" });
    expect(environmentOf(g.one("sst:aws:Function", "HoldSweeper")).MARKET_SECRET_PARAMETERS).toBeUndefined();
    for (const p of g.byType("aws:ssm:Parameter")) {
      expect(p.args.type).toBe("SecureString");
      expect(resolve(p.args.value)).toBe(`${SECRET_MARK}${p.name.replace(/Parameter$/, "")}`);
    }
    // No secret has a default: a stage deploys only once each is set (no demo key).
    for (const s of g.byType("sst:sst:Secret")) expect(s.args.placeholder, s.name).toBeUndefined();
    expect(
      g
        .byType("sst:sst:Secret")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["MarketAdminToken", "MarketGatewayMnemonic", "MarketValidatorMnemonic", "MarketWorkerServingKey"]);
  });

  it("sets the stage's netuid, chain, model store and validator on the functions and workers, and runs Node 22", () => {
    const bucketName = resolve(prod.graph.one("sst:aws:Bucket", "ModelStore").instance.name);
    for (const name of ["Api", "Validator", "SettleSubscriber"]) {
      const env = environmentOf(prod.graph.one("sst:aws:Function", name));
      expect(env.MARKET_NETUID).toBe("42");
      expect(env.MARKET_CHAIN_URL).toBe("wss://entrypoint-finney.opentensor.ai:443");
      expect(env.MARKET_RESOURCE_PREFIX).toBe(prefix(S));
      expect(env.MARKET_MODEL_BUCKET, name).toBe(bucketName);
    }
    for (const name of ["Api", "SettleSubscriber"])
      expect(environmentOf(prod.graph.one("sst:aws:Function", name)).MARKET_VALIDATOR_HOTKEY, name).toBe(HOTKEY);
    // Workers run validation jobs only from a trusted sender: the stage's validator.
    expect(containerOf(prod.graph).environment).toContainEqual({ name: "WORKER_TRUSTED_SENDERS", value: HOTKEY });
    // And paid queries signed by the stage's gateway (issue 17: no read of the request on a first delivery).
    expect(containerOf(prod.graph).environment).toContainEqual({ name: "WORKER_GATEWAY_ADDRESS", value: GATEWAY });
    for (const fn of prod.graph.byType("sst:aws:Function")) expect(fn.args.runtime, fn.name).toBe("nodejs22.x");
    const dockerfile = readFileSync(join(ROOT, "gpu-workers/Dockerfile"), "utf8");
    const nodeImages = [...dockerfile.matchAll(/^FROM\s+(?:--platform=\S+\s+)?node:(\d+)/gm)].map((m) => Number(m[1]));
    expect(nodeImages.length).toBeGreaterThan(0);
    for (const major of nodeImages) expect(major).toBeGreaterThanOrEqual(22);
  });

  it("dead-letters every queue and alarms on every dead-letter queue", () => {
    const g = prod.graph;
    const q = (name: string) => g.one("sst:aws:Queue", name);
    expect(resolve(q("Jobs").args.dlq)).toEqual({ queue: queue(S, "jobs-dlq"), retry: 5 });
    expect(resolve(q("Validation").args.dlq)).toEqual({ queue: queue(S, "validation-dlq"), retry: 5 });
    expect(resolve(q("Settle").args.dlq)).toEqual({ queue: queue(S, "settle-dlq"), retry: 5 });
    expect(g.subscriptions).toEqual([
      { queue: "Settle", function: "SettleSubscriber", args: { batch: { size: 10, partialResponses: true } } },
    ]);
    expect(g.one("sst:aws:Function", "SettleSubscriber").args.handler).toBe("functions/settler/lambda.handler");
    const alarmed = g
      .byType("aws:cloudwatch:MetricAlarm")
      .filter((a) => a.args.metricName === "ApproximateNumberOfMessagesVisible")
      .map((a) => (resolve(a.args.dimensions) as { QueueName: string }).QueueName)
      .sort();
    expect(alarmed).toEqual([
      `${prefix(S)}jobs-dlq`,
      `${prefix(S)}settle-dlq`,
      `${prefix(S)}validation-dlq`,
      `${prefix(S)}validator-failures`,
    ]);
  });

  it("ships the dashboard's Vite build inside the API bundle", () => {
    const fn = prod.graph.one("sst:aws:Function", "Api");
    expect(fn.args.copyFiles).toEqual([{ from: "web/dist", to: "web/dist" }]);
  });

  it("runs the validator on a frequent tick, one at a time, with its failures alarmed", () => {
    const g = prod.graph;
    const fn = g.one("sst:aws:Function", "Validator");
    expect(fn.args.concurrency).toEqual({ reserved: 1 });
    const tick = g.one("sst:aws:CronV2", "ValidatorTick");
    expect(tick.args.schedule).toBe("rate(2 minutes)");
    expect(tick.args.function).toBe(fn.instance);
    const invokeConfig: Record<string, unknown> = { maximumRetryAttempts: fn.args.retries };
    (fn.args.transform as { eventInvokeConfig: (a: Record<string, unknown>) => void }).eventInvokeConfig(invokeConfig);
    expect(resolve(invokeConfig)).toEqual({
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 3600,
      destinationConfig: { onFailure: { destination: queue(S, "validator-failures") } },
    });

    const alarms = g.byType("aws:cloudwatch:MetricAlarm");
    const topic = resolve(g.one("aws:sns:Topic", "Alarms").instance.arn);
    for (const a of alarms.filter((x) => x.name !== "GpuWorkerJobsWaitingWithoutTask")) {
      expect(resolve(a.args.alarmActions), a.name).toEqual([topic]);
    }
    const errors = g.one("aws:cloudwatch:MetricAlarm", "ValidatorErrors");
    expect(resolve(errors.args.dimensions)).toEqual({ FunctionName: `${prefix(S)}validator` });
    const filter = g.one("aws:cloudwatch:LogMetricFilter", "WeightsAccepted");
    expect(resolve(filter.args.logGroupName)).toBe(`/aws/lambda/${prefix(S)}validator`);
    expect(filter.args.pattern).toContain('"weights submitted"');
    const missed = g.one("aws:cloudwatch:MetricAlarm", "ValidatorMissedEpoch");
    expect(missed.args).toMatchObject({
      metricName: "WeightsAccepted",
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
      period: 3600,
      evaluationPeriods: 3,
    });
    const email = g.one("aws:sns:TopicSubscription", "AlarmsEmail");
    expect(email.args).toMatchObject({ protocol: "email", endpoint: "ops@example.com" });
  });

  it("follows the chain with one directory follower a minute, which returns before the next tick", () => {
    const g = prod.graph;
    const fn = g.one("sst:aws:Function", "DirectoryFollower");
    expect(fn.args).toMatchObject({
      handler: "functions/directory/lambda.handler",
      timeout: "70 seconds",
      concurrency: { reserved: 1 },
      retries: 0,
    });
    const tick = g.one("sst:aws:CronV2", "DirectoryTick");
    expect(tick.args.schedule).toBe("rate(1 minute)");
    expect(tick.args.function).toBe(fn.instance);
    const invokeConfig: Record<string, unknown> = {};
    (fn.args.transform as { eventInvokeConfig: (a: Record<string, unknown>) => void }).eventInvokeConfig(invokeConfig);
    expect(invokeConfig).toEqual({ maximumEventAgeInSeconds: 60 });
    expect(environmentOf(fn)).toEqual({
      MARKET_CHAIN_URL: expect.stringMatching(/^wss:\/\//),
      MARKET_NETUID: expect.any(String),
      MARKET_MODEL_BUCKET: expect.any(String),
    });
    // The workers' share of the 10 s from commitment to service (budget in infra/directory.ts).
    const reload = containerOf(g).environment.find((e) => e.name === "WORKER_RELOAD_MS");
    expect(Number(reload?.value)).toBeLessThanOrEqual(2000);
    // No batch settings in the stage file: the workers' own defaults, and no inline config in the task definition.
    expect(containerOf(g).environment.map((e) => e.name)).not.toContain("WORKER_CONFIG");
  });

  it("alarms on the API's 5xx rate", () => {
    const alarm = prod.graph.one("aws:cloudwatch:MetricAlarm", "Api5xxRate");
    const queries = resolve(alarm.args.metricQueries) as {
      id: string;
      expression?: string;
      metric?: { metricName: string; dimensions: Record<string, string> };
    }[];
    const metrics = queries.flatMap((q) => (q.metric ? [[q.id, q.metric.metricName, q.metric.dimensions]] : []));
    expect(metrics).toEqual([
      ["errors", "Url5xxCount", { FunctionName: `${prefix(S)}api` }],
      ["requests", "UrlRequestCount", { FunctionName: `${prefix(S)}api` }],
    ]);
    expect(queries.find((q) => q.expression)?.expression).toContain("100 * FILL(errors, 0) / requests");
    expect(alarm.args).toMatchObject({ comparisonOperator: "GreaterThanThreshold", threshold: 5 });
  });

  it("scales the GPU workers on backlog per task, keeping one task in production, after the capacity provider", () => {
    const g = prod.graph;
    const target = g.one("aws:appautoscaling:Target", "GpuWorkerScaling");
    expect(target.args).toMatchObject({
      minCapacity: 1,
      maxCapacity: 4,
      scalableDimension: "ecs:service:DesiredCount",
    });
    const policy = g.one("aws:appautoscaling:Policy", "GpuWorkerBacklogPerTask");
    expect(policy.args.policyType).toBe("TargetTrackingScaling");
    const tracking = resolve(policy.args.targetTrackingScalingPolicyConfiguration) as {
      targetValue: number;
      customizedMetricSpecification: {
        metrics: { id: string; expression?: string; returnData: boolean; metricStat?: { metric: unknown } }[];
      };
    };
    expect(tracking.targetValue).toBe(200);
    const metrics = tracking.customizedMetricSpecification.metrics;
    // The backlog is both queues a worker takes from: clients' paid jobs and the validator's jobs.
    for (const [id, name] of [
      ["paid", "jobs"],
      ["validation", "validation"],
    ] as const) {
      expect(metrics.find((m) => m.id === id)?.metricStat?.metric).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: [{ name: "QueueName", value: `${prefix(S)}${name}` }],
      });
    }
    expect(metrics.find((m) => m.id === "visible")?.expression).toBe("FILL(paid, 0) + FILL(validation, 0)");
    expect(metrics.find((m) => m.id === "running")?.metricStat?.metric).toMatchObject({
      namespace: "ECS/ContainerInsights",
      metricName: "RunningTaskCount",
    });
    const returned = metrics.filter((m) => m.returnData);
    expect(returned.map((m) => m.expression)).toEqual([
      "IF(FILL(running, 0) > 0, visible / FILL(running, 0), visible)",
    ]);

    const fromZero = g.one("aws:appautoscaling:Policy", "GpuWorkerFromZero");
    const trigger = g.one("aws:cloudwatch:MetricAlarm", "GpuWorkerJobsWaitingWithoutTask");
    expect(resolve(trigger.args.alarmActions)).toEqual([resolve(fromZero.instance.arn)]);

    const service = g.one("aws:ecs:Service", "GpuWorkerService");
    const association = g.one("aws:ecs:ClusterCapacityProviders", "GpuCapacityProviders");
    expect(service.opts.dependsOn).toEqual([association.instance]);
    expect(service.opts.ignoreChanges).toEqual(["desiredCount"]);
    expect(service.args.desiredCount).toBe(1);
    const cluster = g.one("aws:ecs:Cluster", "GpuWorkers");
    expect(resolve(cluster.args.settings)).toEqual([{ name: "containerInsights", value: "enabled" }]);
  });

  it("builds the worker image into its own repository, runs it by digest and logs to CloudWatch", () => {
    const g = prod.graph;
    const repository = g.one("aws:ecr:Repository", "GpuWorkerRepository");
    const url = resolve(repository.instance.repositoryUrl);
    const image = g.one("docker-build:Image", "GpuWorkerImage");
    expect(resolve(image.args)).toMatchObject({
      push: true,
      platforms: ["linux/amd64"],
      dockerfile: { location: `${ROOT}/gpu-workers/Dockerfile` },
      context: { location: ROOT },
      registries: [{ address: "https://ecr", username: "AWS", password: "ecr-token" }],
    });
    expect(containerOf(g).image).toBe(`${url}@${resolve(image.instance.digest)}`);
    const lifecycle = g.one("aws:ecr:LifecyclePolicy", "GpuWorkerRepositoryLifecycle");
    expect(resolve(lifecycle.args.repository)).toBe(resolve(repository.instance.name));
    expect(JSON.parse(lifecycle.args.policy as string).rules.length).toBeGreaterThan(0);
    expect(prod.outputs.workerRepository).toBe(url);
    expect(prod.outputs.workerImage).toBe(containerOf(g).image);

    const logGroup = g.one("aws:cloudwatch:LogGroup", "GpuWorkerLogs");
    expect(logGroup.args.retentionInDays).toBe(90);
    expect(containerOf(g).logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": resolve(logGroup.instance.name),
        "awslogs-region": REGION,
        "awslogs-stream-prefix": "worker",
      },
    });
    expect(containerOf(g).environment).toContainEqual({
      name: "MARKET_MODEL_BUCKET",
      value: resolve(g.one("sst:aws:Bucket", "ModelStore").instance.name),
    });
  });
});

// --- other stages and the fail-closed rules -----------------------------------------------------------------

describe("stage configuration", () => {
  it("refuses to deploy production without a netuid or a validator hotkey", async () => {
    await expect(evaluate("production", { validatorHotkey: HOTKEY })).rejects.toThrow(
      /stage "production": set "netuid".*refusing to guess/,
    );
    await expect(evaluate("production", undefined)).rejects.toThrow(/netuid/);
    await expect(evaluate("production", { netuid: 42 })).rejects.toThrow(/validatorHotkey/);
    // Without the workers' serving keys no answer would count: production and GPU stages refuse, naming the field.
    await expect(evaluate("production", { netuid: 42, validatorHotkey: HOTKEY })).rejects.toThrow(
      /stage "production": set "workerKeys"/,
    );
    await expect(evaluate("production", { ...PRODUCTION, workerKeys: [] })).rejects.toThrow(/workerKeys/);
    await expect(evaluate("production", { ...PRODUCTION, workerKeys: ["//Alice"] })).rejects.toThrow(
      /workerKeys\[0\]" must be an ss58 address/,
    );
    await expect(evaluate("staging", { netuid: 7, validatorHotkey: HOTKEY, gpu: { enabled: true } })).rejects.toThrow(
      /workerKeys/,
    );
    await expect(evaluate("production", { ...PRODUCTION, chainUrl: "ws://127.0.0.1:9944" })).rejects.toThrow(/wss/);
  });

  it("leaves GPUs off on a stage that does not ask for them, and deploys the rest", async () => {
    const dev = await evaluate("dev", { netuid: 7, validatorHotkey: HOTKEY });
    for (const type of ["aws:ecs:Service", "aws:ecr:Repository", "docker-build:Image", "aws:appautoscaling:Target"]) {
      expect(dev.graph.byType(type), type).toEqual([]);
    }
    expect(dev.graph.byType("sst:sst:Secret").map((s) => s.name)).not.toContain("MarketWorkerServingKey");
    // No workers, no serving key to trust: the functions get an empty list.
    expect(environmentOf(dev.graph.one("sst:aws:Function", "Api")).MARKET_WORKER_KEYS).toBe("");
    expect(environmentOf(dev.graph.one("sst:aws:Function", "Api")).MARKET_CHAIN_URL).toBe(
      "wss://test.finney.opentensor.ai:443",
    );
    expect(dev.outputs.workerRepository).toBeUndefined();
    for (const t of dev.graph.byType("sst:aws:Dynamo")) expect(t.args.deletionProtection).toBe(false);
  });

  it("scales a stage's GPU workers down to zero by default, and back up from zero", async () => {
    const gpu = await evaluate("staging", {
      netuid: 7,
      validatorHotkey: HOTKEY,
      workerKeys: [SERVING_KEY],
      gpu: {
        enabled: true,
        maxTasks: 2,
        batch: { maxBatchSize: 64 },
        batchRules: [{ runner: "silero-vad", batch: { maxBatchSize: 8 } }],
      },
      prices: { digits: 1500 },
    });
    const g = gpu.graph;
    // The stage file's batch settings reach the workers as their inline config (per-expert rules included).
    const workerConfig = containerOf(g).environment.find((e) => e.name === "WORKER_CONFIG")?.value;
    expect(JSON.parse(workerConfig ?? "null")).toEqual({
      batch: { maxBatchSize: 64 },
      batchRules: [{ runner: "silero-vad", batch: { maxBatchSize: 8 } }],
    });
    expect(g.one("aws:appautoscaling:Target", "GpuWorkerScaling").args).toMatchObject({
      minCapacity: 0,
      maxCapacity: 2,
    });
    expect(g.one("aws:ecs:Service", "GpuWorkerService").args.desiredCount).toBe(0);
    // From zero: an alarm that is non-zero only while jobs wait and no task runs adds one task.
    const trigger = g.one("aws:cloudwatch:MetricAlarm", "GpuWorkerJobsWaitingWithoutTask");
    const queries = resolve(trigger.args.metricQueries) as {
      id: string;
      expression?: string;
      metric?: { dimensions: { QueueName: string } };
    }[];
    expect(queries.find((q) => q.id === "waiting")?.expression).toBe("IF(FILL(running, 0) == 0, visible, 0)");
    // Validation jobs waiting with no task start one too, not only paid ones.
    expect(queries.find((q) => q.id === "visible")?.expression).toBe("FILL(paid, 0) + FILL(validation, 0)");
    expect(queries.find((q) => q.id === "validation")?.metric?.dimensions.QueueName).toBe(
      `${prefix("staging")}validation`,
    );
    const fromZero = resolve(
      g.one("aws:appautoscaling:Policy", "GpuWorkerFromZero").args.stepScalingPolicyConfiguration,
    ) as { adjustmentType: string; stepAdjustments: { scalingAdjustment: number }[] };
    expect(fromZero.adjustmentType).toBe("ChangeInCapacity");
    expect(fromZero.stepAdjustments).toEqual([{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }]);
    // Image layers and models bypass the NAT instances.
    expect(resolve(g.one("aws:ec2:VpcEndpoint", "WorkersS3Endpoint").args)).toMatchObject({
      serviceName: "com.amazonaws.us-east-1.s3",
      vpcEndpointType: "Gateway",
      routeTableIds: ["rtb-private-a", "rtb-private-b"],
    });
    expect(environmentOf(gpu.graph.one("sst:aws:Function", "Api")).MARKET_TASK_PRICES).toBe('{"digits":1500}');
  });

  it("checks each field of a stage file", async () => {
    // The module configures the current stage when it loads: give it a stage and a valid file.
    vi.resetModules();
    installStandIns("test", ROOT);
    const file = join(dir, "test.json");
    writeFileSync(file, JSON.stringify({ netuid: 3, validatorHotkey: HOTKEY }));
    vi.stubEnv("MARKET_STAGE_CONFIG", file);
    const { resolveStageConfig } = (await import(STAGE_MODULE)) as {
      resolveStageConfig: (stage: string, raw: unknown) => unknown;
    };
    const base = { netuid: 3, validatorHotkey: HOTKEY, workerKeys: [SERVING_KEY] };
    expect(() => resolveStageConfig("dev", { ...base, netuid: 0 })).toThrow(/netuid/);
    expect(() => resolveStageConfig("dev", { ...base, gpu: { minTasks: 3, maxTasks: 2 } })).toThrow(/minTasks/);
    expect(() => resolveStageConfig("dev", { ...base, logRetentionDays: 10 })).toThrow(/logRetentionDays/);
    expect(() => resolveStageConfig("dev", { ...base, validatorTick: "every minute" })).toThrow(/validatorTick/);
    expect(() => resolveStageConfig("dev", { ...base, workerKeys: SERVING_KEY })).toThrow(/workerKeys/);
    expect(() => resolveStageConfig("dev", { ...base, gatewayHotkey: "not-an-address" })).toThrow(/gatewayHotkey/);
    // Batch settings are checked as a worker checks them at start: a rule no worker accepts stops the deploy.
    expect(() => resolveStageConfig("dev", { ...base, gpu: { batch: { maxBatchSize: 0 } } })).toThrow(/gpu\.batch/);
    expect(() => resolveStageConfig("dev", { ...base, gpu: { batch: { maxDelay: 3 } } })).toThrow(/gpu\.batch/);
    expect(() =>
      resolveStageConfig("dev", {
        ...base,
        gpu: { batch: { preferredBatchSizes: [16] }, batchRules: [{ task: "speech", batch: { maxBatchSize: 8 } }] },
      }),
    ).toThrow(/gpu\.batchRules\[0\]\.batch\.preferredBatchSizes/);
    expect(() => resolveStageConfig("dev", { ...base, gpu: { batchRules: [{ batch: {} }] } })).toThrow(
      /gpu\.batchRules/,
    );
    const plain = resolveStageConfig("dev", base) as { gpu: Record<string, unknown> };
    expect(plain.gpu.batch).toBeUndefined();
    expect(plain.gpu.batchRules).toEqual([]);
    // A misspelt field is named, not ignored (its default would be deployed instead).
    expect(() => resolveStageConfig("dev", { ...base, alarmemail: "a@b.c" })).toThrow(/unknown field "alarmemail"/);
    expect(() => resolveStageConfig("dev", { ...base, gpu: { batchrules: [] } })).toThrow(
      /unknown field "gpu\.batchrules"/,
    );
    expect(() =>
      resolveStageConfig("dev", { ...base, gpu: { runner: "x", batchRules: [{ runner: "silero_vad", batch: {} }] } }),
    ).toThrow(/unknown field "gpu\.runner"/);
    expect(resolveStageConfig("dev", { netuid: 3, validatorHotkey: HOTKEY })).toMatchObject({ workerKeys: [] });
    expect(resolveStageConfig("production", base)).toMatchObject({
      workerKeys: [SERVING_KEY],
      production: true,
      netuid: 3,
      gpu: { enabled: true, minTasks: 1 },
      chainUrl: "wss://entrypoint-finney.opentensor.ai:443",
    });
  });
});
