import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Runs a built function as the Lambda Node.js runtime does: a fresh `node` (no tsx, no loaders) whose working
 * directory is the task root, which imports `<taskRoot>/bundle.mjs` once (init) and calls its export once per event
 * with a context object. The environment is only what the caller passes (the function's configuration) plus the
 * variables Lambda itself sets (LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, TZ, PATH, ...).
 */
const RUNNER = `
import { pathToFileURL } from "node:url";
import { join } from "node:path";
const root = process.env.LAMBDA_TASK_ROOT;
const [file, name] = process.env._HANDLER.split(".");
let mod;
const init = import(pathToFileURL(join(root, file + ".mjs")).href).then((m) => { mod = m; });
init.catch(() => {});
process.on("message", async ({ id, event, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  try {
    await init;
    const fn = mod[name];
    if (typeof fn !== "function") throw new Error("handler export " + name + " is not a function");
    const context = {
      awsRequestId: id, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: "$LATEST",
      invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:" + process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: "1024", logGroupName: "/aws/lambda/test", logStreamName: "test",
      callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done() {}, fail() {}, succeed() {},
    };
    const result = await fn(event, context);
    process.send({ id, ok: true, result });
  } catch (error) {
    process.send({ id, ok: false, error: String(error && error.stack || error) });
  }
});
`;

export interface LambdaHost {
  invoke<T = unknown>(event: unknown, timeoutMs?: number): Promise<T>;
  /** stdout + stderr of the function so far (its logs). */
  logs(): string;
  stop(): Promise<void>;
}

export async function startLambdaHost(options: {
  readonly taskRoot: string;
  readonly handler: string;
  readonly functionName: string;
  readonly env: Readonly<Record<string, string>>;
  /** The function's configured timeout (what the context's getRemainingTimeInMillis counts down from). */
  readonly timeoutMs?: number;
}): Promise<LambdaHost> {
  const dir = await mkdtemp(join(tmpdir(), "lambda-runtime-"));
  const runner = join(dir, "runtime.mjs");
  await writeFile(runner, RUNNER);
  let output = "";
  const child: ChildProcess = fork(runner, [], {
    cwd: options.taskRoot,
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: {
      ...options.env,
      LAMBDA_TASK_ROOT: options.taskRoot,
      LAMBDA_RUNTIME_DIR: dir,
      _HANDLER: options.handler,
      AWS_LAMBDA_FUNCTION_NAME: options.functionName,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "1024",
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      TZ: ":UTC",
      LANG: "en_US.UTF-8",
      PATH: process.env.PATH ?? "/usr/bin:/bin",
    },
  });
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on("message", (msg: { id: string; ok: boolean; result?: unknown; error?: string }) => {
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    if (msg.ok) w.resolve(msg.result);
    else w.reject(new Error(`${options.functionName} failed: ${msg.error}\n--- logs ---\n${output.slice(-4000)}`));
  });
  child.on("exit", (code) => {
    for (const w of waiting.values())
      w.reject(new Error(`${options.functionName} exited (${code})\n--- logs ---\n${output.slice(-4000)}`));
    waiting.clear();
  });
  return {
    invoke<T>(event: unknown, timeoutMs = 60_000): Promise<T> {
      const id = randomUUID();
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(
            new Error(`${options.functionName}: no answer in ${timeoutMs} ms\n--- logs ---\n${output.slice(-4000)}`),
          );
        }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, event, timeoutMs: options.timeoutMs ?? 60_000 });
      });
    },
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      });
    },
  };
}

/** A function-URL invocation (payload format 2.0), as Lambda delivers it. */
export function functionUrlEvent(input: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** A JSON body, serialized here. */
  body?: unknown;
  /** The body's exact bytes (a signed request's): text as is, anything else base64-encoded, as function URLs do. */
  rawBody?: Uint8Array;
  query?: string;
}): Record<string, unknown> {
  const now = Date.now();
  const headers: Record<string, string> = {
    host: "abc123.lambda-url.us-east-1.on.aws",
    "x-forwarded-proto": "https",
    "user-agent": "bundled-handlers-test",
    ...(input.body === undefined ? {} : { "content-type": "application/json" }),
    ...Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: input.path,
    rawQueryString: input.query ?? "",
    headers,
    requestContext: {
      accountId: "anonymous",
      apiId: "abc123",
      domainName: headers.host,
      domainPrefix: "abc123",
      http: {
        method: input.method,
        path: input.path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: headers["user-agent"],
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    ...rawBodyFields(input.rawBody, headers["content-type"]),
    ...(input.body === undefined ? {} : { body: JSON.stringify(input.body), isBase64Encoded: false }),
  };
}

function rawBodyFields(body: Uint8Array | undefined, contentType = ""): Record<string, unknown> {
  if (body === undefined || body.length === 0) return { isBase64Encoded: false };
  const text = /^(text\/|application\/(json|problem\+json|xml))/.test(contentType);
  return text
    ? { body: Buffer.from(body).toString("utf8"), isBase64Encoded: false }
    : { body: Buffer.from(body).toString("base64"), isBase64Encoded: true };
}

/**
 * The function's URL on a local port: each HTTP request becomes a function-URL event for `host`, and its answer the
 * HTTP response, so an HTTP client (the miner's CLI) reaches a bundled API as it reaches the deployed one.
 */
export async function serveFunctionUrl(
  host: LambdaHost,
  timeoutMs = 60_000,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const url = new URL(req.url ?? "/", "http://function-url");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      const out = await host.invoke<{
        statusCode: number;
        headers?: Record<string, string>;
        body?: string;
        isBase64Encoded?: boolean;
      }>(
        functionUrlEvent({
          method: req.method ?? "GET",
          path: url.pathname,
          query: url.search.replace(/^\?/, ""),
          headers,
          rawBody: Buffer.concat(chunks),
        }),
        timeoutMs,
      );
      const body = Buffer.from(out.body ?? "", out.isBase64Encoded ? "base64" : "utf8");
      res.writeHead(out.statusCode, { ...(out.headers ?? {}), "content-length": String(body.length) });
      res.end(body);
    } catch (error) {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What EventBridge Scheduler passes to a CronV2 function: the schedule's `event` input, `{}` unless infra sets one. */
export const SCHEDULER_EVENT: Record<string, never> = {};
