/**
 * Least privilege, written out. Every principal of the stack (API, validator, sweeper, settler, GPU task) gets its
 * own role with exactly the actions its code calls on exactly its tables, queues, parameters and objects. Nothing
 * here is `link`ed: SST's link on a Dynamo or a Queue grants `dynamodb:*` / `sqs:*`, so names travel as environment
 * and grants are these statements. test/cloud/resource-graph.test.ts checks the result principal by principal.
 *
 * The SDK commands behind each action (IAM authorizes the batch forms with the single action: SendMessageBatch is
 * sqs:SendMessage; BatchGetItem is its own action):
 * - adapters/queue/sqs.ts: GetQueueUrl (first use), SendMessage(Batch), ReceiveMessage, ChangeMessageVisibility,
 *   DeleteMessage; deadLetter = SendMessage on the DLQ + DeleteMessage.
 * - adapters/tables: keys (Get/Put/Update/Delete), ledger (Get/Put/Update/Delete/Query on gsi1/BatchGet/BatchWrite),
 *   jobs + requests on the jobs table (Put/Get/Update/Delete/BatchGet/Query on gsi1), scores (Put/Get/Update/Query).
 */

export interface Statement {
  readonly Effect: "Allow";
  readonly Action: readonly string[];
  readonly Resource: readonly $util.Input<string>[];
}

interface HasArn {
  readonly arn: $util.Input<string>;
}

export const allow = (Action: readonly string[], Resource: readonly $util.Input<string>[]): Statement => ({
  Effect: "Allow",
  Action: [...Action].sort(),
  Resource,
});

/** A table and, when `indexed`, its gsi1 (the only index the adapters query). */
export const onTable = (table: HasArn, actions: readonly string[], indexed = actions.includes("dynamodb:Query")) =>
  allow(actions, indexed ? [table.arn, $interpolate`${table.arn}/index/gsi1`] : [table.arn]);

export const sendTo = (...queues: HasArn[]) =>
  allow(
    ["sqs:GetQueueUrl", "sqs:SendMessage"],
    queues.map((q) => q.arn),
  );

export const readParameters = (...parameters: HasArn[]) =>
  allow(
    ["ssm:GetParameters"],
    parameters.map((p) => p.arn),
  );

/**
 * Reading objects of the model store under some of its prefixes (core/experts/directory.ts: `directory/experts.json`
 * and `models/<sha256>.onnx`). s3:GetObject also authorizes HeadObject (S3ModelStore.has).
 */
export const readObjects = (bucket: HasArn, prefixes: readonly ("directory" | "models")[]) =>
  allow(
    ["s3:GetObject"],
    prefixes.map((prefix) => $interpolate`${bucket.arn}/${prefix}/*`),
  );

/**
 * The API's part in a miner's cloud upload (functions/api/routes/model-uploads.ts): it presigns PUTs under `uploads/`
 * (a presigned URL carries the signer's authority, so s3:PutObject there), reads and deletes the upload on confirm,
 * and writes the checked model to its content-addressed key. It reads no model and writes no directory; readers
 * verify a model's digest, so a write under `models/` cannot swap what a key names without being refused.
 */
export const modelUploads = (bucket: HasArn) => [
  allow(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"], [$interpolate`${bucket.arn}/uploads/*`]),
  allow(["s3:PutObject"], [$interpolate`${bucket.arn}/models/*`]),
];

/** Replacing the published expert directory (`directory/experts.json`); never a model. */
export const writeDirectory = (bucket: HasArn) => allow(["s3:PutObject"], [$interpolate`${bucket.arn}/directory/*`]);

const account = aws.getCallerIdentityOutput({}).accountId;
const region = aws.getRegionOutput({}).region;
const partition = aws.getPartitionOutput({}).partition;

/** A Lambda function's own log group (SST creates /aws/lambda/<name>), instead of the managed policy's `*`. */
export const lambdaLogs = (functionName: string) =>
  allow(
    ["logs:CreateLogStream", "logs:PutLogEvents"],
    [$interpolate`arn:${partition}:logs:${region}:${account}:log-group:/aws/lambda/${functionName}:*`],
  );

export const policyDocument = (statements: readonly Statement[]) =>
  $jsonStringify({ Version: "2012-10-17", Statement: statements });

/**
 * The role of one Lambda function, passed to sst.aws.Function as `role`: SST then attaches nothing (no
 * AWSLambdaBasicExecutionRole, no link permissions), so this inline policy is the function's whole authority.
 */
export function lambdaRole(id: string, functionName: string, statements: readonly Statement[]) {
  return new aws.iam.Role(`${id}Role`, {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "lambda.amazonaws.com" }),
    inlinePolicies: [{ name: "least-privilege", policy: policyDocument([...statements, lambdaLogs(functionName)]) }],
  });
}

export const functionName = (logical: string) => `${$app.name}-${$app.stage}-${logical}`;
