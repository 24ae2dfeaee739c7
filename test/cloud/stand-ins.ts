/**
 * Recording stand-ins for the globals SST gives `sst.config.ts` and `infra/` (`sst`, `aws`, `dockerbuild`, `$app`,
 * `$interpolate`, `$jsonStringify`, `$resolve`, `$cli`), so the stack's resource graph can be evaluated and checked
 * without AWS, Pulumi or the SST CLI. Every value is known at once, so an Output is a box with `.apply`.
 *
 * Where an SST component grants IAM on its own, the stand-in says so as SST 4.17 does (read from
 * .sst/platform/src/components/aws): a Function without `role` gets its `permissions`, the permissions of everything
 * it `link`s (Dynamo: dynamodb:* on the table and its indexes; Queue: sqs:*; Bucket: s3:*) and the managed
 * AWSLambdaBasicExecutionRole; with `role` it gets nothing but that role. A queue subscriber without `role` gets
 * the five SQS actions of queue-lambda-subscriber.ts.
 */

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
/** What every sst.Secret's value resolves to, so a leak into plain configuration is found by its value. */
export const SECRET_MARK = "SECRET-VALUE-OF-";

export class Out<T> {
  constructor(readonly value: T) {}
  apply<U>(fn: (value: T) => U): Out<U> {
    return new Out(resolve(fn(this.value))) as Out<U>;
  }
}

/** Every Output inside a value replaced by what it holds. */
export function resolve<T>(value: T): T {
  if (value instanceof Out) return resolve(value.value);
  if (Array.isArray(value)) return value.map(resolve) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)])) as T;
  }
  return value;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

type Args = Record<string, unknown>;

export interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly args: Args;
  readonly opts: Args;
  readonly instance: Record<string, unknown>;
}

export interface Graph {
  readonly resources: Recorded[];
  readonly subscriptions: { queue: string; function: string; args: Args }[];
  byType(type: string): Recorded[];
  one(type: string, name: string): Recorded;
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

function record(graph: Graph, type: string, name: string, args: Args, opts: Args, instance: Record<string, unknown>) {
  graph.resources.push({ type, name, args: args ?? {}, opts: opts ?? {}, instance });
}

/** An aws.* / dockerbuild.* resource: any attribute is an Output of a name derived from the resource. */
function genericResource(graph: Graph, type: string) {
  return class {
    constructor(name: string, args: Args = {}, opts: Args = {}) {
      const [, service = "x", kind = "x"] = type.split(":");
      const physical = typeof args.name === "string" ? args.name : name;
      const known: Record<string, unknown> = {
        name: new Out(physical),
        id: new Out(`${kind}-${name}`),
        arn: new Out(arn(service, `${kind.toLowerCase()}/${physical.replace(/^\//, "")}`)),
        repositoryUrl: new Out(`${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${physical}`),
        registryId: new Out(ACCOUNT),
        digest: new Out(`sha256:${"ab".repeat(32)}`),
        resourceId: new Out(resolve(args.resourceId)),
        scalableDimension: new Out(resolve(args.scalableDimension)),
        serviceNamespace: new Out(resolve(args.serviceNamespace)),
      };
      const instance = new Proxy(known, {
        get: (target, prop: string | symbol) =>
          typeof prop === "symbol" || prop === "then" || prop === "toJSON"
            ? undefined
            : (target[prop] ?? new Out(`${name}.${prop}`)),
      });
      record(graph, type, name, args, opts, instance);
      // biome-ignore lint/correctness/noConstructorReturn: the proxy is the resource
      return instance;
    }
  };
}

const DATA_SOURCES: Record<string, Record<string, unknown>> = {
  getRegionOutput: { region: REGION, name: REGION },
  getCallerIdentityOutput: { accountId: ACCOUNT },
  getPartitionOutput: { partition: "aws" },
  getAuthorizationTokenOutput: { userName: "AWS", password: "ecr-token", proxyEndpoint: "https://ecr" },
  getParameterOutput: { value: "ami-0123456789abcdef0" },
};

function namespace(graph: Graph, prefix: string): unknown {
  const cache = new Map<string, unknown>();
  return new Proxy(
    {},
    {
      get: (_target, prop: string) => {
        if (cache.has(prop)) return cache.get(prop);
        let value: unknown;
        if (prop === "assumeRolePolicyForPrincipal") {
          value = (principal: Record<string, string>) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRole" }],
            });
        } else if (prop.startsWith("get") && prop.endsWith("Output")) {
          const fields = DATA_SOURCES[prop] ?? {};
          value = () =>
            new Proxy({}, { get: (_t, field: string) => new Out(fields[field] ?? `${prefix}.${prop}.${field}`) });
        } else if (/^[A-Z]/.test(prop)) {
          value = genericResource(graph, `${prefix}:${prop}`);
        } else {
          value = namespace(graph, `${prefix}:${prop}`);
        }
        cache.set(prop, value);
        return value;
      },
    },
  );
}

function interpolate(strings: TemplateStringsArray, ...values: unknown[]): Out<string> {
  return new Out(strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(resolve(values[i])) : ""), ""));
}

/** Installs the stand-ins as globals for one evaluation of the stack and returns the graph they record. */
export function installStandIns(stage: string, root: string): Graph {
  const graph: Graph = {
    resources: [],
    subscriptions: [],
    byType: (type) => graph.resources.filter((r) => r.type === type),
    one: (type, name) => {
      const found = graph.resources.find((r) => r.type === type && r.name === name);
      if (!found) throw new Error(`no ${type} named ${name}`);
      return found;
    },
  };
  const app = { name: "intelligence-market", stage };
  const physical = (name: string) => `${app.name}-${stage}-${name}`;

  const linkPermissions = (link: unknown[]) =>
    link.flatMap((item) => {
      const sstLink = (item as { sstLink?: () => Statement[] }).sstLink;
      return sstLink ? sstLink() : [];
    });

  class SstFunction {
    readonly name: Out<string>;
    readonly arn: Out<string>;
    readonly url: Out<string>;
    readonly nodes: Record<string, unknown>;
    /** What SST would add to the function's role on its own (see the header). */
    readonly implicit: Statement[];
    constructor(name: string, args: Args, opts: Args = {}, subscriberPermissions: Statement[] = []) {
      const fnName = typeof args.name === "string" ? args.name : physical(name);
      this.name = new Out(fnName);
      this.arn = new Out(arn("lambda", `function:${fnName}`));
      this.url = new Out(`https://${fnName}.lambda-url.${REGION}.on.aws/`);
      this.nodes = { function: { name: fnName }, logGroup: new Out({ name: `/aws/lambda/${fnName}` }) };
      const permissions = (resolve(args.permissions) as Statement[] | undefined) ?? [];
      this.implicit =
        args.role === undefined
          ? [
              ...permissions,
              ...subscriberPermissions,
              ...linkPermissions((args.link as unknown[]) ?? []),
              { Effect: "Allow", Action: ["managed:AWSLambdaBasicExecutionRole"], Resource: ["*"] },
            ]
          : [];
      record(graph, "sst:aws:Function", name, args, opts, this as unknown as Record<string, unknown>);
    }
  }

  class Dynamo {
    readonly name: Out<string>;
    readonly arn: Out<string>;
    readonly nodes: Record<string, unknown>;
    constructor(name: string, args: Args) {
      const tableName = (resolve(args.transform) as { table?: { name?: string } } | undefined)?.table?.name ?? name;
      this.name = new Out(tableName);
      this.arn = new Out(arn("dynamodb", `table/${tableName}`));
      this.nodes = { table: { name: this.name } };
      record(graph, "sst:aws:Dynamo", name, args, {}, this as unknown as Record<string, unknown>);
    }
    sstLink(): Statement[] {
      return [{ Effect: "Allow", Action: ["dynamodb:*"], Resource: [this.arn.value, `${this.arn.value}/*`] }];
    }
  }

  class Queue {
    readonly arn: Out<string>;
    readonly url: Out<string>;
    readonly nodes: { queue: { name: Out<string> } };
    constructor(
      readonly logical: string,
      args: Args = {},
    ) {
      const queueName = (resolve(args.transform) as { queue?: { name?: string } } | undefined)?.queue?.name ?? logical;
      this.arn = new Out(arn("sqs", queueName));
      this.url = new Out(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${queueName}`);
      this.nodes = { queue: { name: new Out(queueName) } };
      record(graph, "sst:aws:Queue", logical, args, {}, this as unknown as Record<string, unknown>);
    }
    sstLink(): Statement[] {
      return [{ Effect: "Allow", Action: ["sqs:*"], Resource: [this.arn.value] }];
    }
    subscribe(subscriber: Args, args: Args = {}) {
      const fn = new SstFunction(`${this.logical}Subscriber`, subscriber, {}, [
        {
          Effect: "Allow",
          Action: [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:ReceiveMessage",
          ],
          Resource: [this.arn.value],
        },
      ]);
      graph.subscriptions.push({ queue: this.logical, function: `${this.logical}Subscriber`, args });
      return { nodes: { function: fn } };
    }
  }

  class Bucket {
    readonly name: Out<string>;
    readonly arn: Out<string>;
    constructor(name: string, args: Args = {}) {
      const bucketName = `${physical(name).toLowerCase()}-abc123`;
      this.name = new Out(bucketName);
      this.arn = new Out(`arn:aws:s3:::${bucketName}`);
      record(graph, "sst:aws:Bucket", name, args, {}, this as unknown as Record<string, unknown>);
    }
    sstLink(): Statement[] {
      return [{ Effect: "Allow", Action: ["s3:*"], Resource: [this.arn.value, `${this.arn.value}/*`] }];
    }
  }

  class CronV2 {
    constructor(name: string, args: Args) {
      const fn = args.function;
      if (fn !== undefined && !(fn instanceof SstFunction) && typeof fn === "object") {
        new SstFunction(`${name}Handler`, fn as Args);
      }
      record(graph, "sst:aws:CronV2", name, args, {}, this as unknown as Record<string, unknown>);
    }
  }

  class Vpc {
    readonly privateSubnets = new Out(["subnet-private-a", "subnet-private-b"]);
    readonly publicSubnets = new Out(["subnet-public-a", "subnet-public-b"]);
    readonly securityGroups = new Out(["sg-workers"]);
    readonly id = new Out("vpc-workers");
    readonly nodes = {
      privateRouteTables: new Out([{ id: new Out("rtb-private-a") }, { id: new Out("rtb-private-b") }]),
    };
    constructor(name: string, args: Args = {}) {
      record(graph, "sst:aws:Vpc", name, args, {}, this as unknown as Record<string, unknown>);
    }
  }

  class Secret {
    readonly value: Out<string>;
    readonly name: Out<string>;
    constructor(name: string, placeholder?: string) {
      this.value = new Out(`${SECRET_MARK}${name}`);
      this.name = new Out(name);
      record(graph, "sst:sst:Secret", name, { placeholder }, {}, this as unknown as Record<string, unknown>);
    }
  }

  const Linkable = {
    /** SST's Linkable.env puts each linked resource's properties in plain SST_RESOURCE_* variables. */
    env: (links: unknown[]) =>
      new Out(
        Object.fromEntries(
          links.map((link, i) => [
            `SST_RESOURCE_${i}`,
            JSON.stringify(resolve({ ...(link as Record<string, unknown>) })),
          ]),
        ),
      ),
  };

  const globals: Record<string, unknown> = {
    $app: app,
    $dev: false,
    $cli: { paths: { root, home: root, platform: `${root}/.sst/platform` }, command: "deploy" },
    $config: (config: unknown) => config,
    $interpolate: interpolate,
    $jsonStringify: (value: unknown) => new Out(JSON.stringify(resolve(value))),
    $resolve: (value: unknown) => new Out(resolve(value)),
    $util: { secret: <T>(value: T) => value },
    sst: { aws: { Function: SstFunction, Dynamo, Queue, Bucket, CronV2, Vpc }, Secret, Linkable },
    aws: namespace(graph, "aws"),
    dockerbuild: namespace(graph, "docker-build"),
  };
  Object.assign(globalThis, globals);
  return graph;
}
