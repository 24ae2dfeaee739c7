import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { isTransient } from "../../core/errors/transient.ts";
import { AuthGuard } from "./auth-guard.ts";
import { corsPolicy } from "./cors.ts";
import { registerDashboardRoutes } from "./dashboard/routes.tsx";
import type { ApiDeps } from "./deps.ts";
import { docsPage } from "./docs-page.ts";
import type { ApiEnv } from "./env.ts";
import { ApiError, BUSY_RETRY_SECONDS, codeForStatus, problemResponse } from "./errors.ts";
import { randomId } from "./flow/ids.ts";
import { cachedKeyStore } from "./key-cache.ts";
import { leasedRateLimits } from "./leased-rate-limits.ts";
import { registerHealthRoute } from "./routes/health.ts";
import { registerInferenceRoutes } from "./routes/inference.ts";
import { registerJobRoutes } from "./routes/jobs.ts";
import { registerKeyRoutes } from "./routes/keys.ts";
import { MODELS_PATH, registerMinerRoutes } from "./routes/models.ts";
import { registerProblemRoutes } from "./routes/problems.ts";
import { registerPublicRoutes } from "./routes/public.ts";
import { registerValidatorRoutes } from "./routes/validators.ts";

export const OPENAPI_INFO = {
  title: "Intelligence market inference API",
  version: "1.0.0",
  description: "Pay-per-query access to the market's experts. Amounts are integer micro-credits.",
};

/** DynamoDB's eventually consistent reads settle well within this: a key still missing after it is unknown. */
const UNKNOWN_KEY_CONFIRM_MS = 2000;

/** The Hono app with every route; all I/O comes through `deps` (memory adapters in tests, AWS in the cloud). */
export function createApp(given: ApiDeps) {
  // Per instance (issue 17): valid keys are read once per validKeyCacheMs (revoke/rotate here drop them at once).
  const deps: ApiDeps = {
    ...given,
    keys: cachedKeyStore(given.keys, { ttlMs: given.config.validKeyCacheMs, now: () => given.clock.now() }),
    // Requests are counted in the shared limiter by leases of several (one write per lease, not per request).
    rateLimits: leasedRateLimits(given.rateLimits),
  };
  const guard = new AuthGuard({
    failureLimit: deps.config.authFailureLimit,
    negativeTtlMs: deps.config.badKeyCacheMs,
    unknownConfirmMs: UNKNOWN_KEY_CONFIRM_MS,
    maxEntries: 100_000,
  });
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
        throw new ApiError(
          "invalid_request",
          issues
            .map((i) => `${i.path || "(body)"}: ${i.message}`)
            .join("; ")
            .slice(0, 500),
          { issues },
        );
      }
    },
  });

  const corsRules = corsPolicy(deps.config.corsOrigins);
  app.use("*", async (c, next) => {
    const requestId = randomId("hr");
    c.set("requestId", requestId);
    if (c.req.method === "OPTIONS") {
      const answer = await corsRules.preflight(c, next);
      if (answer) answer.headers.set("x-request-id", requestId);
      return answer;
    }
    await next();
    // On the final response (also an error's): headers set before the handler would force a placeholder Response.
    c.res.headers.set("x-request-id", requestId);
    corsRules.decorate(c);
  });
  const jsonLimit = bodyLimit({
    maxSize: deps.config.bodyLimitBytes,
    onError: () => {
      throw new ApiError("payload_too_large", `the body exceeds ${deps.config.bodyLimitBytes} bytes`);
    },
  });
  // Model uploads have their own cap (checked before the body is read); every other route keeps the JSON limit.
  app.use("*", (c, next) =>
    deps.miners !== undefined && c.req.path === MODELS_PATH && c.req.method === "POST" ? next() : jsonLimit(c, next),
  );

  registerKeyRoutes(app, deps, guard);
  registerJobRoutes(app, deps, guard);
  registerInferenceRoutes(app, deps, guard);
  registerProblemRoutes(app);
  registerPublicRoutes(app, deps, guard);
  registerMinerRoutes(app, deps);
  registerValidatorRoutes(app, deps);

  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "A client key, mk_live_… or mk_test_…",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The operator token (MARKET_ADMIN_TOKEN)",
  });
  app.doc31("/openapi.json", { openapi: "3.1.0", info: OPENAPI_INFO });
  app.get("/docs", (c) => c.html(docsPage()));
  registerHealthRoute(app, deps);
  registerDashboardRoutes(app, deps);

  app.notFound((c) => problemResponse("not_found", "no such route", c.var.requestId ?? randomId("hr")));
  app.onError((error, c) => {
    const requestId = c.var.requestId ?? randomId("hr");
    if (error instanceof ApiError)
      return closingIfUnread(problemResponse(error.code, error.detail, requestId, error.extra));
    if (error instanceof HTTPException && error.status < 500) {
      // A status missing from the table is still the client's error, never a 500.
      const code = codeForStatus(error.status, "invalid_request");
      return problemResponse(code, code === "invalid_request" ? "malformed request" : error.message || code, requestId);
    }
    if (isTransient(error)) {
      deps.logger.error("a backing service failed for now; answered 503 busy", { requestId, error });
      return problemResponse("busy", "a service the API depends on was busy; retry shortly", requestId, {
        retryAfterSeconds: BUSY_RETRY_SECONDS,
      });
    }
    deps.logger.error("unhandled error", { requestId, error });
    return problemResponse("internal", "an internal error occurred", requestId);
  });
  return app;
}

export type MarketApp = ReturnType<typeof createApp>;

/**
 * A 413 is answered before the body is read; Node then closes the socket rather than read the rest of an
 * oversized body, so the response must say `Connection: close` instead of promising keep-alive (a client that
 * believed it would send its next request into a closed socket). On Lambda the header is dropped as hop-by-hop.
 */
function closingIfUnread(res: Response): Response {
  if (res.status === 413) res.headers.set("connection", "close");
  return res;
}
