import { api } from "./api";
import { directoryFunction } from "./directory";
import { jobsDlq, settleDlq, validationDlq, validatorFailures } from "./queue";
import { stage } from "./stage";
import { validatorFunction } from "./validator";

/**
 * What pages the operator: anything in a dead-letter queue, a validator run that failed (or no accepted weights
 * for `missedEpochHours`: a stuck epoch loses the validator its dividends), the directory follower failing (new
 * commitments are then not served), and the API answering 5xx. All go to one
 * SNS topic; `alarmEmail` in the stage config subscribes an address.
 */
export const alarmTopic = new aws.sns.Topic("Alarms");
if (stage.alarmEmail) {
  new aws.sns.TopicSubscription("AlarmsEmail", {
    topic: alarmTopic.arn,
    protocol: "email",
    endpoint: stage.alarmEmail,
  });
}
const actions = { alarmActions: [alarmTopic.arn], okActions: [alarmTopic.arn] };

function messagesWaiting(id: string, queue: sst.aws.Queue, what: string) {
  return new aws.cloudwatch.MetricAlarm(id, {
    ...actions,
    alarmDescription: what,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: queue.nodes.queue.name },
    statistic: "Maximum",
    period: 300,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    treatMissingData: "notBreaching",
  });
}

export const alarms = {
  jobsDlq: messagesWaiting("JobsDlqNotEmpty", jobsDlq, "expert jobs were dead-lettered (see their reason attribute)"),
  validationDlq: messagesWaiting(
    "ValidationDlqNotEmpty",
    validationDlq,
    "validation jobs were dead-lettered (see their reason attribute): experts may be scored without their answers",
  ),
  settleDlq: messagesWaiting(
    "SettleDlqNotEmpty",
    settleDlq,
    "queries could not be settled (holds not captured, or captured with no result yet): redrive once the cause is fixed",
  ),
  validatorFailures: messagesWaiting(
    "ValidatorRunFailed",
    validatorFailures,
    "a validator run failed after its retry (the failure destination holds the event and error)",
  ),
  validatorErrors: new aws.cloudwatch.MetricAlarm("ValidatorErrors", {
    ...actions,
    alarmDescription: "the validator function threw",
    namespace: "AWS/Lambda",
    metricName: "Errors",
    dimensions: { FunctionName: validatorFunction.name },
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    treatMissingData: "notBreaching",
  }),
  missedEpoch: missedEpochAlarm(),
  // A follow that cannot reach the chain throws (a failed refresh inside one is only logged and retried); three
  // minutes in a row of that is a node down or a bad chainUrl, not a blip.
  directoryErrors: new aws.cloudwatch.MetricAlarm("DirectoryFollowerErrors", {
    ...actions,
    alarmDescription: "the directory follower failed 3 minutes in a row: new commitments are not being served",
    namespace: "AWS/Lambda",
    metricName: "Errors",
    dimensions: { FunctionName: directoryFunction.name },
    statistic: "Sum",
    period: 60,
    evaluationPeriods: 3,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    treatMissingData: "notBreaching",
  }),
  api5xx: new aws.cloudwatch.MetricAlarm("Api5xxRate", {
    ...actions,
    alarmDescription: "more than 5% of API requests answered 5xx (3 of the last 5 minutes)",
    comparisonOperator: "GreaterThanThreshold",
    threshold: 5,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    treatMissingData: "notBreaching",
    metricQueries: [
      {
        id: "errors",
        metric: {
          namespace: "AWS/Lambda",
          metricName: "Url5xxCount",
          dimensions: { FunctionName: api.name },
          period: 60,
          stat: "Sum",
        },
      },
      {
        id: "requests",
        metric: {
          namespace: "AWS/Lambda",
          metricName: "UrlRequestCount",
          dimensions: { FunctionName: api.name },
          period: 60,
          stat: "Sum",
        },
      },
      {
        id: "rate",
        label: "5xx %",
        expression: "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)",
        returnData: true,
      },
    ],
  }),
};

/**
 * The validator logs `{"msg":"weights submitted","status":"accepted",...}` (functions/validator/epoch.ts) once per
 * epoch; a metric filter counts those lines and the alarm fires when none came for `missedEpochHours`, missing
 * data counting as missed (a validator that never runs sends nothing).
 */
function missedEpochAlarm() {
  const namespace = `${$app.name}/${$app.stage}`;
  new aws.cloudwatch.LogMetricFilter("WeightsAccepted", {
    logGroupName: validatorFunction.nodes.logGroup.apply((group) => {
      if (!group) throw new Error("the validator needs its log group for the missed-epoch alarm");
      return group.name;
    }),
    pattern: '{ ($.msg = "weights submitted") && ($.status = "accepted") }',
    metricTransformation: { namespace, name: "WeightsAccepted", value: "1", defaultValue: "0" },
  });
  return new aws.cloudwatch.MetricAlarm("ValidatorMissedEpoch", {
    ...actions,
    alarmDescription: `no weights accepted on chain for ${stage.missedEpochHours} h (netuid ${stage.netuid})`,
    namespace,
    metricName: "WeightsAccepted",
    statistic: "Sum",
    period: 3600,
    evaluationPeriods: stage.missedEpochHours,
    comparisonOperator: "LessThanThreshold",
    threshold: 1,
    treatMissingData: "breaching",
  });
}
