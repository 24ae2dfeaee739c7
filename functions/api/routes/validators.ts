import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ValidatorList } from "../schemas.ts";

const validators = createRoute({
  method: "get",
  path: "/v1/validators",
  tags: ["market"],
  summary: "The subnet's validators: stake, permit, validator trust, dividends and their last weights' block",
  responses: { 200: { description: "Validators", content: { "application/json": { schema: ValidatorList } } } },
});

/** Public, like GET /v1/metagraph: everything here is on chain for anyone to read. */
export function registerValidatorRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps): void {
  app.openapi(validators, async (c) => c.json({ validators: [...((await deps.directory.validators?.()) ?? [])] }, 200));
}
