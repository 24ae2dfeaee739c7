import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface StatusSources {
  readonly health: () => unknown;
  /** The JSON snapshot, served to a client that asks for `application/json`. */
  readonly metrics: () => unknown;
  /** Prometheus text exposition, served to scrapers (any other Accept). */
  readonly prometheus?: () => Promise<{ readonly contentType: string; readonly text: string }>;
}

/**
 * GET /health as JSON, and GET /metrics as Prometheus text (or JSON when the client accepts application/json and
 * not text/plain), on a loopback port by default (the container's HEALTHCHECK calls /health).
 */
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
    const answer = async () => {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET") return send(405, { error: "method not allowed" });
      if (path === "/health") {
        const health = sources.health();
        const ok = typeof health === "object" && health !== null && "status" in health && health.status === "ok";
        return send(ok ? 200 : 503, health);
      }
      if (path === "/metrics") {
        if (!sources.prometheus || wantsJson(req)) return send(200, sources.metrics());
        const { contentType, text } = await sources.prometheus();
        res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
        return res.end(text);
      }
      return send(404, { error: "not found" });
    };
    answer().catch(() => send(500, { error: "internal error" }));
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

/** Scrapers send text/plain or openmetrics (often with a trailing wildcard); JSON readers ask for it by name. */
function wantsJson(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? "";
  return accept.includes("application/json") && !accept.includes("text/plain") && !accept.includes("openmetrics");
}
