import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { ApiEnv } from "./env.ts";

const ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key", "prefer"];
const EXPOSE_HEADERS = ["x-request-id", "retry-after", "location", "ratelimit", "ratelimit-policy"];

export interface CorsPolicy {
  /** Answers a preflight (OPTIONS) in full. */
  readonly preflight: MiddlewareHandler<ApiEnv>;
  /** Writes the CORS headers of any other request onto its final response. */
  readonly decorate: (c: Context<ApiEnv>) => void;
}

/**
 * CORS with hono's middleware for preflights, and for every other request the same headers written onto the final
 * response after the handler. Hono's middleware writes them through `c.res` before the handler, which makes a
 * placeholder Response that the handler's response is then copied over: two Response objects more per request.
 */
export function corsPolicy(origins: readonly string[] | "*"): CorsPolicy {
  const preflight = cors({
    origin: origins === "*" ? "*" : [...origins],
    allowHeaders: ALLOW_HEADERS,
    exposeHeaders: EXPOSE_HEADERS,
    allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
    maxAge: 600,
  });
  const expose = EXPOSE_HEADERS.join(",");
  return {
    preflight,
    decorate(c) {
      const origin = c.req.header("origin") ?? "";
      const allowed = origins === "*" ? "*" : origins.includes(origin) ? origin : null;
      const headers = c.res.headers;
      if (allowed) headers.set("access-control-allow-origin", allowed);
      headers.set("access-control-expose-headers", expose);
      if (origins !== "*") headers.append("vary", "Origin");
    },
  };
}
