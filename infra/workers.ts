import { resourcePrefix } from "./naming";
import { jobs, jobsDlq } from "./queue";
import { secrets } from "./secrets";
import { allTables } from "./tables";

/**
 * GPU workers. SST's Service is Fargate-only (no GPU; see ECOSYSTEM.md, PR anomalyco/sst#6646), so this is the
 * escape hatch: an ECS cluster on GPU EC2 instances (ECS GPU AMI) declared with raw Pulumi, the task definition asking
 * for one GPU, and the links turned into environment variables with sst.Linkable.env (which grants no IAM: the task
 * role below grants exactly what the worker calls).
 */
const vpc = new sst.aws.Vpc("WorkersVpc", { nat: "ec2" });
const cluster = new aws.ecs.Cluster("GpuWorkers");

const ami = aws.ssm.getParameterOutput({
  name: "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id",
});
const instanceRole = new aws.iam.Role("GpuInstanceRole", {
  assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ec2.amazonaws.com" }),
  managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"],
});
const profile = new aws.iam.InstanceProfile("GpuInstanceProfile", { role: instanceRole.name });
const template = new aws.ec2.LaunchTemplate("GpuLaunchTemplate", {
  imageId: ami.value,
  instanceType: "g4dn.xlarge",
  iamInstanceProfile: { arn: profile.arn },
  userData: cluster.name.apply((name) =>
    Buffer.from(`#!/bin/bash\necho ECS_CLUSTER=${name} >> /etc/ecs/ecs.config\n`).toString("base64"),
  ),
  vpcSecurityGroupIds: vpc.securityGroups,
});
const asg = new aws.autoscaling.Group("GpuAsg", {
  minSize: 0,
  maxSize: 4,
  vpcZoneIdentifiers: vpc.privateSubnets,
  launchTemplate: { id: template.id, version: "$Latest" },
  protectFromScaleIn: true,
});
const capacity = new aws.ecs.CapacityProvider("GpuCapacity", {
  autoScalingGroupProvider: {
    autoScalingGroupArn: asg.arn,
    managedScaling: { status: "ENABLED", targetCapacity: 100 },
    managedTerminationProtection: "ENABLED",
  },
});
new aws.ecs.ClusterCapacityProviders("GpuCapacityProviders", {
  clusterName: cluster.name,
  capacityProviders: [capacity.name],
});

const repo = new aws.ecr.Repository("GpuWorkerImage", { forceDelete: $app.stage !== "production" });
const taskRole = new aws.iam.Role("GpuTaskRole", {
  assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
  inlinePolicies: [
    {
      name: "queue-and-tables",
      policy: $jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: [
              "sqs:ReceiveMessage",
              "sqs:DeleteMessage",
              "sqs:ChangeMessageVisibility",
              "sqs:GetQueueUrl",
              "sqs:GetQueueAttributes",
              "sqs:SendMessage",
            ],
            Resource: [jobs.arn, jobsDlq.arn],
          },
          {
            Effect: "Allow",
            Action: [
              "dynamodb:GetItem",
              "dynamodb:PutItem",
              "dynamodb:UpdateItem",
              "dynamodb:BatchGetItem",
              "dynamodb:Query",
            ],
            Resource: allTables.flatMap((t) => [t.arn, $interpolate`${t.arn}/index/*`]),
          },
        ],
      }),
    },
  ],
});

const env = sst.Linkable.env([jobs, ...allTables]).apply((linked) => ({
  ...linked,
  MARKET_RESOURCE_PREFIX: resourcePrefix,
  WORKER_EXPERTS_DIR: "/data/experts",
}));

// The miners' hotkey secrets reach the container through ECS `secrets` (an SSM SecureString read by the agent at
// start), never as plain environment in the task definition, where DescribeTaskDefinition would show them.
const hotkeysParameter = new aws.ssm.Parameter("ExpertHotkeys", {
  type: "SecureString",
  value: secrets.ExpertHotkeys.value,
});
const executionRole = new aws.iam.Role("GpuTaskExecutionRole", {
  assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ecs-tasks.amazonaws.com" }),
  managedPolicyArns: ["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"],
  inlinePolicies: [
    {
      name: "expert-hotkeys",
      policy: $jsonStringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["ssm:GetParameters"], Resource: [hotkeysParameter.arn] }],
      }),
    },
  ],
});
const taskDefinition = new aws.ecs.TaskDefinition("GpuWorkerTask", {
  family: `${$app.name}-${$app.stage}-gpu-worker`,
  requiresCompatibilities: ["EC2"],
  networkMode: "awsvpc",
  taskRoleArn: taskRole.arn,
  executionRoleArn: executionRole.arn,
  containerDefinitions: $jsonStringify([
    {
      name: "worker",
      image: $interpolate`${repo.repositoryUrl}:latest`,
      memory: 12_000,
      essential: true,
      resourceRequirements: [{ type: "GPU", value: "1" }],
      secrets: [{ name: "WORKER_HOTKEY_URIS", valueFrom: hotkeysParameter.arn }],
      environment: env.apply((vars) => Object.entries(vars).map(([name, value]) => ({ name, value: String(value) }))),
      healthCheck: {
        command: [
          "CMD",
          "node",
          "-e",
          "fetch('http://127.0.0.1:9100/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
        ],
        interval: 30,
        retries: 3,
        startPeriod: 60,
      },
      // Longer than the worker's drain (WORKER_DRAIN_TIMEOUT_MS, 30 s) so SIGTERM lets in-flight jobs finish.
      stopTimeout: 120,
    },
  ]),
});

new aws.ecs.Service("GpuWorkerService", {
  cluster: cluster.arn,
  taskDefinition: taskDefinition.arn,
  desiredCount: 1,
  capacityProviderStrategies: [{ capacityProvider: capacity.name, weight: 1 }],
  networkConfiguration: { subnets: vpc.privateSubnets, securityGroups: vpc.securityGroups },
});
