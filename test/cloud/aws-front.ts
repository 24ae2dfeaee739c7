import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ACCOUNT, REGION, type Statement } from "./stand-ins.ts";

/**
 * AWS as the deployed principals see it, on one local port: every SDK call of a bundled handler or of the worker
 * goes here (AWS_ENDPOINT_URL_SQS/_DYNAMODB/_S3/_SSM) signed with its principal's credentials, is checked against
 * that principal's IAM statements as infra/ declares them (action and resource, as IAM evaluates an Allow-only
 * policy), and only then answered: SQS and S3 by fauxqs, DynamoDB by dynalite, SSM Parameter Store here
 * (`AmazonSSM.GetParameters` with WithDecryption, AWS JSON 1.1), holding the parameters infra declares.
 * A call the role does not allow is answered with AccessDenied, as AWS would, and recorded: a missing grant fails
 * the run that needs it, and the test asserts none was denied.
 *
 * The principal is the access key id of the SigV4 Authorization header (`Credential=<key>/<date>/<region>/<service>`),
 * or of a presigned URL's `X-Amz-Credential` (a presigned S3 request acts with its signer's authority, as on AWS):
 * each function and task is given its own key, as Lambda and ECS give each role its own credentials. Signatures
 * themselves are not verified (the key names the principal).
 *
 * S3 integrity as S3 checks it: a PUT carrying `x-amz-checksum-sha256` whose body hashes otherwise is refused with
 * 400 BadDigest and stores nothing (fauxqs alone would store it). A presigned upload signs that header, so a miner
 * cannot PUT other bytes than the ones the API presigned for.
 */

export interface Denial {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
}

export interface AwsFront {
  readonly endpoint: string;
  /** Calls refused so far. */
  readonly denials: Denial[];
  /** Calls allowed so far, as "principal action resource". */
  readonly allowed: Set<string>;
  /** S3 objects whose PUT was refused for a body that did not match its x-amz-checksum-sha256. */
  readonly badDigests: string[];
  /** Sets what a principal (an access key id) may do. */
  grant(principal: string, statements: readonly Statement[]): void;
  stop(): Promise<void>;
}

interface Call {
  readonly action: string;
  readonly resources: readonly string[];
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
}

function allows(statements: readonly Statement[], action: string, resource: string): boolean {
  return statements.some(
    (s) =>
      s.Effect === "Allow" &&
      s.Action.some((a) => globToRegExp(a).test(action)) &&
      s.Resource.some((r) => globToRegExp(r).test(resource)),
  );
}

/** What an SQS (AWS JSON 1.0) call does, as IAM names it: the batch forms are authorized by the single action. */
function sqsCall(target: string, body: Record<string, unknown>): Call {
  const op = target.replace(/^AmazonSQS\./, "").replace(/Batch$/, "");
  const name =
    typeof body.QueueName === "string"
      ? body.QueueName
      : typeof body.QueueUrl === "string"
        ? (body.QueueUrl.split("/").at(-1) ?? "")
        : "";
  return { action: `sqs:${op}`, resources: [arn("sqs", name)] };
}

/** A DynamoDB (AWS JSON 1.0) call: its table, its index when it reads one, every table of a batch. */
function dynamoCall(target: string, body: Record<string, unknown>): Call {
  const op = target.replace(/^DynamoDB_\d+\./, "");
  const table = (name: string) => arn("dynamodb", `table/${name}`);
  if (op === "BatchGetItem" || op === "BatchWriteItem") {
    return { action: `dynamodb:${op}`, resources: Object.keys(body.RequestItems ?? {}).map(table) };
  }
  const name = String(body.TableName ?? "");
  const index = typeof body.IndexName === "string" ? `${table(name)}/index/${body.IndexName}` : table(name);
  return { action: `dynamodb:${op}`, resources: [index] };
}

/** An S3 REST call in path style (createS3Client forces it with an endpoint override). */
function s3Call(method: string, url: URL): Call {
  const [, bucket = "", ...key] = url.pathname.split("/");
  const object = `arn:aws:s3:::${bucket}/${decodeURIComponent(key.join("/"))}`;
  if (key.length === 0 || key.join("/") === "")
    return { action: "s3:ListBucket", resources: [`arn:aws:s3:::${bucket}`] };
  if (method === "GET" || method === "HEAD") return { action: "s3:GetObject", resources: [object] };
  if (method === "PUT" || method === "POST") return { action: "s3:PutObject", resources: [object] };
  if (method === "DELETE") return { action: "s3:DeleteObject", resources: [object] };
  return { action: `s3:${method}`, resources: [object] };
}

const parameterArn = (name: string) => arn("ssm", `parameter/${name.replace(/^\//, "")}`);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, contentType: string, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function startAwsFront(options: {
  /** fauxqs: SQS and S3. */
  readonly sqsAndS3: string;
  readonly dynamodb: string;
  /** SSM parameters by name: the decrypted values of the SecureStrings infra declares. */
  readonly parameters: Readonly<Record<string, string>>;
}): Promise<AwsFront> {
  const policies = new Map<string, readonly Statement[]>();
  const denials: Denial[] = [];
  const allowed = new Set<string>();
  const badDigests: string[] = [];

  const check = (principal: string, call: Call): Denial | null => {
    const statements = policies.get(principal) ?? [];
    for (const resource of call.resources) {
      if (allows(statements, call.action, resource)) {
        allowed.add(`${principal} ${call.action} ${resource}`);
        continue;
      }
      const denial = { principal, action: call.action, resource };
      denials.push(denial);
      return denial;
    }
    return null;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, upstream: string, body: Buffer) => {
    const target = new URL(req.url ?? "/", upstream);
    const headers = { ...req.headers, host: target.host };
    const out = request(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on("error", (error) => {
      res.writeHead(502);
      res.end(String(error));
    });
    out.end(body);
  };

  const server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const presigned = new URL(req.url ?? "/", "http://front").searchParams.get("X-Amz-Credential");
      const credential = /Credential=([^/]+)\/[^/]+\/[^/]+\/([^/]+)\//.exec(
        req.headers.authorization ?? (presigned === null ? "" : `Credential=${presigned}`),
      );
      const principal = credential?.[1] ?? "(unsigned)";
      const service = credential?.[2] ?? "";
      const target = String(req.headers["x-amz-target"] ?? "");
      const parsed = (): Record<string, unknown> => (body.length > 0 ? JSON.parse(body.toString("utf8")) : {});
      if (service === "ssm") {
        const input = parsed() as { Names?: string[]; WithDecryption?: boolean };
        if (target !== "AmazonSSM.GetParameters") {
          json(res, 400, "application/x-amz-json-1.1", { __type: "InvalidAction", message: `${target} not served` });
          return;
        }
        const names = input.Names ?? [];
        const denied = check(principal, { action: "ssm:GetParameters", resources: names.map(parameterArn) });
        if (denied) {
          json(res, 400, "application/x-amz-json-1.1", {
            __type: "AccessDeniedException",
            message: `User: ${principal} is not authorized to perform: ssm:GetParameters on resource: ${denied.resource}`,
          });
          return;
        }
        const found = names.filter((n) => options.parameters[n] !== undefined);
        json(res, 200, "application/x-amz-json-1.1", {
          Parameters: found.map((Name) => ({
            Name,
            Type: "SecureString",
            // Without WithDecryption a SecureString comes back encrypted, which is not the secret.
            Value: input.WithDecryption ? options.parameters[Name] : Buffer.from(`kms:${Name}`).toString("base64"),
            Version: 1,
            ARN: parameterArn(Name),
            DataType: "text",
            LastModifiedDate: 1_765_000_000,
          })),
          InvalidParameters: names.filter((n) => options.parameters[n] === undefined),
        });
        return;
      }
      if (service === "sqs" || service === "dynamodb") {
        const call = service === "sqs" ? sqsCall(target, parsed()) : dynamoCall(target, parsed());
        const denied = check(principal, call);
        if (denied) {
          const type = service === "sqs" ? "com.amazon.coral.service#AccessDeniedException" : "AccessDeniedException";
          json(res, 400, `application/x-amz-json-1.0`, {
            __type: type,
            message: `User: ${principal} is not authorized to perform: ${denied.action} on resource: ${denied.resource}`,
          });
          return;
        }
        forward(req, res, service === "sqs" ? options.sqsAndS3 : options.dynamodb, body);
        return;
      }
      if (service === "s3") {
        const call = s3Call(req.method ?? "GET", new URL(req.url ?? "/", "http://front"));
        const denied = check(principal, call);
        if (denied) {
          const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`;
          res.writeHead(403, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
          res.end(req.method === "HEAD" ? undefined : xml);
          return;
        }
        const checksum = req.headers["x-amz-checksum-sha256"];
        const chunked = String(req.headers["content-encoding"] ?? "").includes("aws-chunked");
        if (req.method === "PUT" && typeof checksum === "string" && !chunked) {
          const actual = createHash("sha256").update(body).digest("base64");
          if (actual !== checksum) {
            badDigests.push(call.resources[0] ?? "");
            const xml = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code><Message>The SHA256 you specified did not match the calculated checksum.</Message></Error>`;
            res.writeHead(400, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
            res.end(xml);
            return;
          }
        }
        forward(req, res, options.sqsAndS3, body);
        return;
      }
      json(res, 400, "application/json", { __type: "UnknownService", message: `no service ${service}` });
    } catch (error) {
      json(res, 500, "application/json", { __type: "InternalFailure", message: String(error) });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    denials,
    allowed,
    badDigests,
    grant: (principal, statements) => {
      policies.set(principal, statements);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
