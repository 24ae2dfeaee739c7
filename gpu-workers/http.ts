import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface StatusSources {
  readonly health: () => unknown;
  readonly metrics: () => unknown;
}

/** GET /health and GET /metrics as JSON, on a loopback port by default (the container's HEALTHCHECK calls it). */
export async function startStatusServer(
  host: string,
  port: number,
  sources: StatusSources,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    try {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET") return send(405, { error: "method not allowed" });
      if (path === "/health") {
        const health = sources.health();
        const ok = typeof health === "object" && health !== null && "status" in health && health.status === "ok";
        return send(ok ? 200 : 503, health);
      }
      if (path === "/metrics") return send(200, sources.metrics());
      return send(404, { error: "not found" });
    } catch {
      return send(500, { error: "internal error" });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
