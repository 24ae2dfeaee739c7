import { JOBS_QUEUE, SETTLE_QUEUE, VALIDATION_QUEUE } from "./definitions";
import { allow, onTable, policyDocument, readObjects, readParameters, sendTo } from "./iam";
import { modelStore } from "./models";
import { resourcePrefix } from "./naming";
import { jobs, jobsDlq, settle, validation, validationDlq } from "./queue";
import { secrets } from "./secrets";
import { stage } from "./stage";
import { tables } from "./tables";

/**
 * GPU workers, only on stages whose config asks for GPUs. SST's Service is Fargate-only (no GPU; ECOSYSTEM.md,
 * PR anomalyco/sst#6646), so this is raw Pulumi: ECS on GPU EC2 instances (ECS GPU AMI) behind a capacity provider
 * with managed scaling, one task per GPU, scaled by Application Auto Scaling on the backlog per task of the queues it
 * takes from (paid jobs and validation jobs),
 * down to `gpu.minTasks` (0 by default) when idle. The image is built from gpu-workers/Dockerfile and pushed to the
 * stack's own ECR repository by `sst deploy` (@pulumi/docker-build, as SST's Service does), and the task runs it by
 * digest, so a deploy always runs the image of the code it deployed.
 */
function gpuWorkers() {
  const servingKey = secrets.WorkerServingKey;
  if (!servingKey) throw new Error("MarketWorkerServingKey is declared on every stage with GPUs");
  const family = `${$app.name}-${$app.stage}-gpu-worker`;
  const region = aws.getRegionOutput({}).region;

  // --- image -------------------------------------------------------------------------------------------------
  const repository = new aws.ecr.Repository("GpuWorkerRepository", {
    name: family,
    imageTagMutability: "MUTABLE",
    imageScanningConfiguration: { scanOnPush: true },
    forceDelete: !stage.production,
  });
  // Tasks run by digest, so only the newest images can be running; older ones are removed.
  new aws.ecr.LifecyclePolicy("GpuWorkerRepositoryLifecycle", {
    repository: repository.name,
    policy: JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: "expire untagged images (build cache layers, superseded pushes) after 7 days",
          selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 7 },
          action: { type: "expire" },
        },
        {
          rulePriority: 2,
          description: "keep the 10 newest images",
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 10 },
          action: { type: "expire" },
        },
      ],
    }),
  });
  const token = aws.ecr.getAuthorizationTokenOutput({ registryId: repository.registryId });
  const image = new dockerbuild.Image("GpuWorkerImage", {
    context: { location: $cli.paths.root },
    dockerfile: { location: `${$cli.paths.root}/gpu-workers/Dockerfile` },
    platforms: ["linux/amd64"],
    push: true,
    tags: [$interpolate`${repository.repositoryUrl}:${$app.stage}`],
    // The registry host (https://<account>.dkr.ecr.<region>.amazonaws.com), as SST's own image builds log in.
    registries: [{ address: token.proxyEndpoint, username: token.userName, password: $util.secret(token.password) }],
  });
  const imageRef = $interpolate`${repository.repositoryUrl}@${image.digest}`;

  // --- instances -----------------------------------------------------------------------------------------
  const vpc = new sst.aws.Vpc("WorkersVpc", { nat: "ec2" });
  // Image layers (ECR serves them from S3) and models come through this free gateway endpoint, not through the
  // t4g.nano NAT instances, whose baseline bandwidth would make a multi-GB image pull take many minutes.
  new aws.ec2.VpcEndpoint("WorkersS3Endpoint", {
    vpcId: vpc.id,
    serviceName: $interpolate`com.amazonaws.${region}.s3`,
    vpcEndpointType: "Gateway",
    routeTableIds: vpc.nodes.privateRouteTables.apply((routeTables) => routeTables.map((t) => t.id)),
  });
  const cluster = new aws.ecs.Cluster("GpuWorkers", {
    name: family,
    // RunningTaskCount, which the backlog-per-task metric divides by.
    settings: [{ name: "containerInsights", value: "enabled" }],
  });
  const ami = aws.ssm.getParameterOutput({
    name: "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
  });
  // The ECS agent's role on the instance (register, poll, pull through the task's execution role). AWS's managed
  // policy is the documented minimum for the agent; its actions have no resource-level form.
  const instanceRole = new aws.iam.Role("GpuInstanceRole", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ec2.amazonaws.com" }),
    managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"],
  });
  const profile = new aws.iam.InstanceProfile("GpuInstanceProfile", { role: instanceRole.name });
  const template = new aws.ec2.LaunchTemplate("GpuLaunchTemplate", {
    imageId: ami.value,
    instanceType: stage.gpu.instanceType,
    iamInstanceProfile: { arn: profile.arn },
    // IMDSv2 only, one hop: a container cannot reach the instance role's credentials.
    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1, httpEndpoint: "enabled" },
    userData: cluster.name.apply((name) =>
      Buffer.from(
        `#!/bin/bash\necho ECS_CLUSTER=${name} >> /etc/ecs/ecs.config\necho ECS_IMAGE_PULL_BEHAVIOR=prefer-cached >> /etc/ecs/ecs.config\n`,
      ).toString("base64"),
    ),
    vpcSecurityGroupIds: vpc.securityGroups,
  });
  const asg = new aws.autoscaling.Group("GpuAsg", {
    minSize: 0,
    maxSize: stage.gpu.maxTasks,
    vpcZoneIdentifiers: vpc.privateSubnets,
    launchTemplate: { id: template.id, version: "$Latest" },
    protectFromScaleIn: true,
    // ECS managed scaling owns the desired capacity.
    tags: [{ key: "AmazonECSManaged", value: "true", propagateAtLaunch: true }],
  });
  const capacity = new aws.ecs.CapacityProvider("GpuCapacity", {
    autoScalingGroupProvider: {
      autoScalingGroupArn: asg.arn,
      managedScaling: { status: "ENABLED", targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 4 },
      managedTerminationProtection: "ENABLED",
    },
  });
  const capacityAssociation = new aws.ecs.ClusterCapacityProviders("GpuCapacityProviders", {
    clusterName: cluster.name,
    capacityProviders: [capacity.name],
    defaultCapacityProviderStrategies: [{ capacityProvider: capacity.name, weight: 1 }],
  });

  // --- the task's roles ----------------------------------------------------------------------------------
  const logGroup = new aws.cloudwatch.LogGroup("GpuWorkerLogs", {
    name: `/ecs/${family}`,
    retentionInDays: stage.logRetentionDays,
  });
  // The worker (gpu-workers/): receive, heartbeat and delete jobs (paid and validation); dead-letter one (send to the DLQ); check a
  // paid job against its request (a batched read) and a validation job against its record; mark it running /
  // answered / failed (a conditional update or, for a paid job's first terminal write, a conditional put; re-read on
  // a lost race); tell the settler a query's last answer is in; read models. It cannot touch keys, the ledger or
  // scores.
  const taskStatements = [
    allow(
      ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
      [jobs.arn, validation.arn],
    ),
    sendTo(jobsDlq, validationDlq, settle),
    onTable(tables.jobs, ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]),
    readObjects(modelStore, ["directory", "models"]),
  ];
  const taskRole = new aws.iam.Role("GpuTaskRole", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
    inlinePolicies: [{ name: "least-privilege", policy: policyDocument(taskStatements) }],
  });
  // What the ECS agent does for this task: pull its image, write its logs, inject its one secret.
  // ecr:GetAuthorizationToken has no resource-level permission: AWS accepts only "*" for it.
  const executionStatements = [
    allow(["ecr:GetAuthorizationToken"], ["*"]),
    allow(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], [repository.arn]),
    allow(["logs:CreateLogStream", "logs:PutLogEvents"], [$interpolate`${logGroup.arn}:*`]),
    readParameters(servingKey.parameter),
  ];
  const executionRole = new aws.iam.Role("GpuTaskExecutionRole", {
    assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
    inlinePolicies: [{ name: "least-privilege", policy: policyDocument(executionStatements) }],
  });

  // --- task and service ----------------------------------------------------------------------------------
  const environment = {
    MARKET_RESOURCE_PREFIX: resourcePrefix,
    MARKET_MODEL_BUCKET: modelStore.name,
    // Validation jobs must carry a signature by a trusted sender (gpu-workers/job-handler.ts): without the
    // validator's hotkey here no validation job would run and every expert would score 0.
    WORKER_TRUSTED_SENDERS: stage.validatorHotkey,
    // Paid jobs' first deliveries run on the query's facts the gateway signed in the message, with no read of the
    // request (gpu-workers/signed-queries.ts, issue 17); without it every request is read.
    ...(stage.gatewayHotkey ? { WORKER_GATEWAY_ADDRESS: stage.gatewayHotkey } : {}),
    // The settle queue's logical name (the worker's default is the same definition; spelled out so the task
    // definition shows where notices go). Physical name: MARKET_RESOURCE_PREFIX + this.
    WORKER_SETTLE_QUEUE_NAME: SETTLE_QUEUE.name,
    // The validator's jobs: a second lane of a few slots, after clients' paid jobs (issue 17).
    WORKER_VALIDATION_QUEUE_NAME: VALIDATION_QUEUE.name,
    AWS_REGION: region,
    WORKER_MAX_RECEIVES: String(JOBS_QUEUE.deadLetter?.maxReceiveCount ?? 5),
    // The directory is re-read every 2 s (a conditional GET, 304 while unchanged): the workers' part of the 10 s from
    // a miner's commitment to its model being served (budget: infra/directory.ts).
    WORKER_RELOAD_MS: "2000",
    WORKER_METRICS_HOST: "127.0.0.1",
    WORKER_METRICS_PORT: "9100",
    // The stage file's batch settings (gpu.batch, gpu.batchRules: per-expert settings), checked at deploy time
    // (infra/stage.ts) as the worker checks them.
    ...(stage.gpu.batch !== undefined || stage.gpu.batchRules.length > 0
      ? { WORKER_CONFIG: JSON.stringify({ batch: stage.gpu.batch ?? {}, batchRules: stage.gpu.batchRules }) }
      : {}),
  };
  const taskDefinition = new aws.ecs.TaskDefinition("GpuWorkerTask", {
    family,
    requiresCompatibilities: ["EC2"],
    networkMode: "awsvpc",
    taskRoleArn: taskRole.arn,
    executionRoleArn: executionRole.arn,
    containerDefinitions: $jsonStringify([
      {
        name: "worker",
        image: imageRef,
        // g4dn.xlarge: 16 GiB; leave the agent and the OS their share.
        memory: 14_000,
        essential: true,
        resourceRequirements: [{ type: "GPU", value: "1" }],
        // The serving key (which signs every answer; its address is the stage's `workerKeys`) reaches the container
        // through ECS `secrets` (read by the agent from SSM at start), never as plain environment, where
        // DescribeTaskDefinition would show it. No miner's hotkey secret is held here (issue 15).
        secrets: [{ name: "WORKER_SERVING_KEY_URI", valueFrom: servingKey.parameter.arn }],
        environment: $resolve(environment).apply((vars) =>
          Object.entries(vars).map(([name, value]) => ({ name, value: String(value) })),
        ),
        logConfiguration: {
          logDriver: "awslogs",
          options: { "awslogs-group": logGroup.name, "awslogs-region": region, "awslogs-stream-prefix": "worker" },
        },
        healthCheck: {
          command: [
            "CMD",
            "node",
            "-e",
            "fetch('http://127.0.0.1:9100/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
          ],
          interval: 30,
          retries: 3,
          // Model download + CUDA session creation happen before /health turns ok.
          startPeriod: 180,
        },
        // Longer than the worker's drain (WORKER_DRAIN_TIMEOUT_MS, 30 s) so SIGTERM lets in-flight jobs finish.
        stopTimeout: 120,
      },
    ]),
  });

  const service = new aws.ecs.Service(
    "GpuWorkerService",
    {
      name: "gpu-worker",
      cluster: cluster.arn,
      taskDefinition: taskDefinition.arn,
      desiredCount: stage.gpu.minTasks,
      capacityProviderStrategies: [{ capacityProvider: capacity.name, weight: 1 }],
      networkConfiguration: { subnets: vpc.privateSubnets, securityGroups: vpc.securityGroups },
      deploymentCircuitBreaker: { enable: true, rollback: true },
    },
    // The service cannot place a task before the capacity provider is associated with the cluster; the desired
    // count belongs to the scaling policy after the first deploy.
    { dependsOn: [capacityAssociation], ignoreChanges: ["desiredCount"] },
  );

  // --- scaling on backlog per task -----------------------------------------------------------------------
  const scaling = new aws.appautoscaling.Target("GpuWorkerScaling", {
    serviceNamespace: "ecs",
    scalableDimension: "ecs:service:DesiredCount",
    resourceId: $interpolate`service/${cluster.name}/${service.name}`,
    minCapacity: stage.gpu.minTasks,
    maxCapacity: stage.gpu.maxTasks,
  });
  // Backlog counts both queues a worker takes from: clients' paid jobs and the validator's jobs (issue 17).
  const queueName = jobs.nodes.queue.name;
  const validationQueueName = validation.nodes.queue.name;
  const visible = {
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: [{ name: "QueueName", value: queueName }],
  };
  const visibleValidation = { ...visible, dimensions: [{ name: "QueueName", value: validationQueueName }] };
  const running = {
    namespace: "ECS/ContainerInsights",
    metricName: "RunningTaskCount",
    dimensions: [
      { name: "ClusterName", value: cluster.name },
      { name: "ServiceName", value: service.name },
    ],
  };
  // Target tracking keeps (visible jobs / running tasks) near the target: 2 x the backlog adds tasks in
  // proportion, an empty queue removes them down to the minimum.
  new aws.appautoscaling.Policy("GpuWorkerBacklogPerTask", {
    policyType: "TargetTrackingScaling",
    resourceId: scaling.resourceId,
    scalableDimension: scaling.scalableDimension,
    serviceNamespace: scaling.serviceNamespace,
    targetTrackingScalingPolicyConfiguration: {
      targetValue: stage.gpu.backlogPerTask,
      scaleInCooldown: 600,
      scaleOutCooldown: 60,
      customizedMetricSpecification: {
        metrics: [
          { id: "paid", returnData: false, metricStat: { metric: visible, stat: "Sum" } },
          { id: "validation", returnData: false, metricStat: { metric: visibleValidation, stat: "Sum" } },
          { id: "visible", returnData: false, expression: "FILL(paid, 0) + FILL(validation, 0)" },
          { id: "running", returnData: false, metricStat: { metric: running, stat: "Average" } },
          {
            id: "backlogPerTask",
            label: "visible jobs per running task",
            returnData: true,
            expression: "IF(FILL(running, 0) > 0, visible / FILL(running, 0), visible)",
          },
        ],
      },
    },
  });
  // Target tracking multiplies the current count, so from zero tasks it can never scale out: a step policy adds the
  // first task when jobs wait and no task runs (its alarm's expression is 0 whenever a task runs).
  const fromZero = new aws.appautoscaling.Policy("GpuWorkerFromZero", {
    policyType: "StepScaling",
    resourceId: scaling.resourceId,
    scalableDimension: scaling.scalableDimension,
    serviceNamespace: scaling.serviceNamespace,
    stepScalingPolicyConfiguration: {
      adjustmentType: "ChangeInCapacity",
      cooldown: 300,
      metricAggregationType: "Maximum",
      stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
    },
  });
  new aws.cloudwatch.MetricAlarm("GpuWorkerJobsWaitingWithoutTask", {
    alarmDescription: "jobs wait and no GPU task runs: start one (scale from zero)",
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    evaluationPeriods: 1,
    treatMissingData: "notBreaching",
    alarmActions: [fromZero.arn],
    metricQueries: [
      {
        id: "paid",
        metric: { ...visible, dimensions: { QueueName: queueName }, period: 60, stat: "Maximum" },
      },
      {
        id: "validation",
        metric: { ...visible, dimensions: { QueueName: validationQueueName }, period: 60, stat: "Maximum" },
      },
      { id: "visible", expression: "FILL(paid, 0) + FILL(validation, 0)" },
      {
        id: "running",
        metric: {
          ...running,
          dimensions: { ClusterName: cluster.name, ServiceName: service.name },
          period: 60,
          stat: "Average",
        },
      },
      { id: "waiting", expression: "IF(FILL(running, 0) == 0, visible, 0)", returnData: true },
    ],
  });

  return { repository, cluster, service, logGroup, taskRole, executionRole, imageRef };
}

export const workers = stage.gpu.enabled ? gpuWorkers() : undefined;
