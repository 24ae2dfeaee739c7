// The emulators' own thread (see emulators.ts, which starts it and is its only user). Plain JavaScript so that a
// worker thread loads it as it is, under `node --import tsx` and under vitest alike, without a TypeScript loader.
import { readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import { buildApp } from "fauxqs";

const require = createRequire(import.meta.url);

/** @typedef {{ dataDir?: string; sqsPort?: number; dynamoPort?: number }} Options */

/** @param {import("node:net").AddressInfo | string | null} address */
function portOf(address) {
  if (address === null || typeof address === "string") throw new Error("emulator is not listening on a TCP port");
  return address.port;
}

/**
 * dynalite closes its database once its HTTP connections are gone, but a request whose client went away (a client
 * destroyed at stop, fire-and-forget writes of an aborted validator run) is still being worked on by then; its next
 * database step fails with "Database is closed", which dynalite throws from a callback: an uncaught exception that
 * took the whole market down with exit code 1 at stop. So requests pass through a gate: on stop, new ones are
 * answered 503 without touching the database, and the close waits (bounded) until those already in dynalite finish.
 * @param {import("node:http").Server} server
 */
function gateRequests(server, drainMs = 10_000) {
  const handlers = server.listeners("request");
  server.removeAllListeners("request");
  let inFlight = 0;
  let closing = false;
  /** @type {(() => void) | null} */
  let idle = null;
  server.on("request", (req, res) => {
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
    const end = res.end.bind(res);
    res.end = (...args) => {
      finish();
      return end(...args);
    };
    // A request cut off before its body was complete never reaches dynalite's database code.
    req.once("close", () => {
      if (!req.complete) finish();
    });
    for (const handler of handlers) handler.call(server, req, res);
  });
  return {
    /** @returns {Promise<void>} */
    drain() {
      closing = true;
      if (inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}

/** @param {import("node:http").Server} server @returns {Promise<void>} */
function closeDynalite(server) {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // Keep-alive sockets of SDK clients would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}

/** @param {Options} options */
async function start(options) {
  // buildApp + our own listen rather than startFauxqs, which always binds 0.0.0.0: an emulator without
  // authentication must not be reachable from the network.
  const fauxqs = buildApp({ logger: false });
  /** @type {import("node:http").Server | undefined} */
  let dynamo;
  try {
    await fauxqs.listen({ port: options.sqsPort ?? 0, host: "127.0.0.1" });
    const sqsPort = portOf(fauxqs.server.address());
    const dynalite = require("dynalite");
    const server = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      ...(options.dataDir !== undefined ? { path: options.dataDir } : {}),
    });
    dynamo = server;
    const gate = gateRequests(server);
    await new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.dynamoPort ?? 0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve(undefined);
      });
    });
    const dynamoPort = portOf(server.address());
    const stop = () => Promise.all([fauxqs.close(), gate.drain().then(() => closeDynalite(server))]);
    return { sqsPort, dynamoPort, stop };
  } catch (error) {
    await Promise.allSettled([fauxqs.close(), dynamo?.listening ? closeDynalite(dynamo) : Promise.resolve()]);
    throw error;
  }
}

/**
 * This thread's id in the operating system (Linux: /proc/thread-self is `<pid>/task/<tid>`), so that a benchmark can
 * tell the emulators' CPU time from the market's (bench/market.ts); undefined where there is no such file.
 * @returns {number | undefined}
 */
function osThreadId() {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isSafeInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

const port = parentPort;
if (port === null) throw new Error("emulator-thread.mjs runs as a worker thread (see emulators.ts)");
try {
  const running = await start(/** @type {Options} */ (workerData ?? {}));
  port.on("message", (message) => {
    if (message?.type !== "stop") return;
    // Once told, the port closes: nothing is left on this thread's loop and it ends.
    running.stop().then(
      () => {
        port.postMessage({ type: "stopped" });
        port.close();
      },
      (error) => {
        port.postMessage({ type: "stopped", error: String(error?.stack ?? error) });
        port.close();
      },
    );
  });
  port.postMessage({
    type: "ready",
    sqsPort: running.sqsPort,
    dynamoPort: running.dynamoPort,
    osThreadId: osThreadId(),
  });
} catch (error) {
  port.postMessage({ type: "failed", error: String(error?.stack ?? error) });
}
