import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * The API port, bound before anything is built: a second market on a taken port fails in a fraction of a second
 * instead of after the emulators, chain and experts are up. Until the app is attached the server answers 503
 * "starting", so a client polling /health sees a clear state rather than a refused connection.
 */
export class PortInUseError extends Error {
  override readonly name = "PortInUseError";
  constructor(
    readonly host: string,
    readonly port: number,
    code: string,
  ) {
    super(
      code === "EADDRINUSE"
        ? `port ${port} on ${host} is already in use (another market or program listens there); stop it, or set PORT to a free port`
        : `cannot listen on ${host}:${port} (${code}); set PORT or HOST`,
    );
  }
}

export interface ClaimedPort {
  readonly port: number;
  /** Serves the app from now on. */
  attach(fetch: (request: Request) => Response | Promise<Response>): void;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function claimPort(host: string, port: number): Promise<ClaimedPort> {
  let handler: Handler = (_req, res) => {
    res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
    res.end(JSON.stringify({ status: "starting" }));
  };
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => reject(new PortInUseError(host, port, error.code ?? "?")));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  return {
    port: bound,
    attach(fetch) {
      // Loaded only now, to keep the path to a port-in-use failure short; until then requests get "starting".
      void import("@hono/node-server").then(({ getRequestListener }) => {
        handler = getRequestListener(fetch);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets of clients would otherwise hold close() open until they time out.
        server.closeIdleConnections();
      }),
  };
}
