import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { buildApp } from "fauxqs";

/**
 * fauxqs (SQS) and dynalite (DynamoDB), in this process, on 127.0.0.1.
 *
 * Persistence: dynalite keeps its tables in LevelDB under `dataDir` when given (memory otherwise), so they survive
 * a restart. fauxqs is memory only: queue contents are lost on restart. Jobs that were in flight are then never
 * answered and the API's deadline handling expires them (their holds are released). Keeping them would need a
 * snapshot on stop (fauxqs `inspectQueue` lists ready, delayed and in-flight messages) and a re-send on start into
 * the re-created queues; receive counts would restart at zero, which only delays poison detection.
 */
export interface EmulatorOptions {
  /** dynalite's LevelDB folder; omitted = in memory. */
  readonly dataDir?: string;
  /** 0 (default) = a free port. */
  readonly sqsPort?: number;
  readonly dynamoPort?: number;
}

export interface Emulators {
  /** e.g. http://127.0.0.1:41234 */
  readonly sqsEndpoint: string;
  readonly dynamoEndpoint: string;
  /** Closes both servers and waits until dynalite has closed its database. */
  stop(): Promise<void>;
}

/** dynalite ships no types; this is the part we use. */
type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number; path?: string }) => Server;
const require = createRequire(import.meta.url);

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  // buildApp + our own listen rather than startFauxqs, which always binds 0.0.0.0: an emulator without
  // authentication must not be reachable from the network.
  const fauxqs = buildApp({ logger: false });
  let dynamo: Server | undefined;
  try {
    await fauxqs.listen({ port: options.sqsPort ?? 0, host: "127.0.0.1" });
    const sqsPort = portOf(fauxqs.server.address());
    const dynalite = require("dynalite") as DynaliteFactory;
    const server = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      ...(options.dataDir !== undefined ? { path: options.dataDir } : {}),
    });
    dynamo = server;
    const gate = gateRequests(server);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.dynamoPort ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const dynamoPort = portOf(server.address());
    let stopped: Promise<void> | undefined;
    return {
      sqsEndpoint: `http://127.0.0.1:${sqsPort}`,
      dynamoEndpoint: `http://127.0.0.1:${dynamoPort}`,
      stop: () => {
        stopped ??= Promise.all([fauxqs.close(), gate.drain().then(() => closeDynalite(server))]).then(() => undefined);
        return stopped;
      },
    };
  } catch (error) {
    await Promise.allSettled([fauxqs.close(), dynamo?.listening ? closeDynalite(dynamo) : Promise.resolve()]);
    throw error;
  }
}

/**
 * dynalite closes its database once its HTTP connections are gone, but a request whose client went away (a client
 * destroyed at stop, fire-and-forget writes of an aborted validator run) is still being worked on by then; its next
 * database step fails with "Database is closed", which dynalite throws from a callback: an uncaught exception that
 * took the whole market down with exit code 1 at stop. So requests pass through a gate: on stop, new ones are
 * answered 503 without touching the database, and the close waits (bounded) until those already in dynalite finish.
 */
function gateRequests(server: Server, drainMs = 10_000): { drain(): Promise<void> } {
  const handlers = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  let inFlight = 0;
  let closing = false;
  let idle: (() => void) | null = null;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      res.writeHead(503, { "content-type": "application/x-amz-json-1.0", connection: "close" });
      res.end(JSON.stringify({ __type: "com.amazonaws.dynamodb.v20120810#ServiceUnavailableException" }));
      return;
    }
    inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
      if (inFlight === 0) idle?.();
    };
    // dynalite answers every request it works on, error or not, through res.end: that is where its work is over.
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      finish();
      return end(...args);
    }) as typeof res.end;
    // A request cut off before its body was complete never reaches dynalite's database code.
    req.once("close", () => {
      if (!req.complete) finish();
    });
    for (const handler of handlers) handler.call(server, req, res);
  });
  return {
    drain() {
      closing = true;
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}

function closeDynalite(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets of SDK clients would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}

function portOf(address: string | AddressInfo | null): number {
  if (address === null || typeof address === "string") throw new Error("emulator is not listening on a TCP port");
  return address.port;
}
