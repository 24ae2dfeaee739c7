import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";

const Component = z.object({ state: z.enum(["ok", "degraded", "down", "disabled", "starting"]) }).catchall(z.unknown());
const Health = z
  .object({ status: z.enum(["ok", "degraded"]), components: z.record(z.string(), Component) })
  .openapi("Health");

const health = createRoute({
  method: "get",
  path: "/health",
  tags: ["operations"],
  summary: "Each component's state (queue, tables, chain, workers, validator); 503 when one is down",
  responses: {
    200: { description: "Everything answers", content: { "application/json": { schema: Health } } },
    503: { description: "A component is down", content: { "application/json": { schema: Health } } },
  },
});

/** Health never throws: a failing probe is reported as that component being down, not as a 500. */
export function registerHealthRoute(app: OpenAPIHono<ApiEnv>, deps: ApiDeps): void {
  app.openapi(health, async (c) => {
    if (!deps.health) return c.json({ status: "ok" as const, components: { api: { state: "ok" as const } } }, 200);
    try {
      const report = await deps.health();
      const down = Object.values(report.components).some((x) => x.state === "down");
      return c.json({ status: report.status, components: { ...report.components } }, down ? 503 : 200);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return c.json({ status: "degraded" as const, components: { api: { state: "down" as const, detail } } }, 503);
    }
  });
}
