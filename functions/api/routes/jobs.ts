import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { decodeCursor, encodeCursor } from "../../../core/jobs/list-cursor.ts";
import { requireKey } from "../auth.ts";
import type { AuthGuard } from "../auth-guard.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError, problemResponses } from "../errors.ts";
import { type RequestView, settleRequest } from "../flow/settle.ts";
import { IdParam, JobList, ListQuery } from "../schemas.ts";
import { jobView } from "../views.ts";

const apiKey = [{ apiKey: [] }];
const AUTH_ERRORS = ["unauthorized", "forbidden", "rate_limited"] as const;
/** A stream ends at the latest this long after the query's deadline (the query has expired by then). */
const STREAM_PAST_DEADLINE_MS = 30_000;

const listJobs = createRoute({
  method: "get",
  path: "/v1/jobs",
  tags: ["inference"],
  summary: "The account's queries, newest first, a page at a time (cursor from nextCursor)",
  security: apiKey,
  request: { query: ListQuery },
  responses: {
    200: { description: "A page of queries", content: { "application/json": { schema: JobList } } },
    ...problemResponses("invalid_request", ...AUTH_ERRORS),
  },
});

const jobEvents = createRoute({
  method: "get",
  path: "/v1/jobs/{id}/events",
  tags: ["inference"],
  summary: "Server-Sent Events: a `status` event (data: the query object) at each change, until a final state",
  security: apiKey,
  request: { params: IdParam },
  responses: {
    200: {
      description: "text/event-stream; each `status` event's data is the query object (Job) as JSON",
      content: { "text/event-stream": { schema: z.string() } },
    },
    ...problemResponses(...AUTH_ERRORS, "not_found"),
  },
});

export function registerJobRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps, guard: AuthGuard): void {
  app.use("/v1/jobs", requireKey(deps, guard, "read"));
  app.openapi(listJobs, async (c) => {
    const q = c.req.valid("query");
    const before = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (before === null) throw new ApiError("invalid_request", "cursor: not a cursor this API gave");
    const page = await deps.requests.listByAccount(c.var.key.accountId, {
      limit: q.limit ?? 20,
      ...(before !== undefined ? { before } : {}),
    });
    return c.json(
      {
        // Listing reads, it settles nothing: an unsettled query shows as queued until polled or streamed.
        data: page.records.map((record) => jobView({ record, status: record.result?.status ?? "queued" })),
        nextCursor: page.next === null ? null : encodeCursor(page.next),
      },
      200,
    );
  });

  app.use("/v1/jobs/:id/events", requireKey(deps, guard, "read"));
  // Registered for the document; served by the plain handler below (a stream is not a JSON response).
  app.openAPIRegistry.registerPath(jobEvents);
  app.get("/v1/jobs/:id/events", async (c) => {
    const parsed = IdParam.safeParse({ id: c.req.param("id") });
    if (!parsed.success) throw new ApiError("invalid_request", "id: 1-200 characters");
    const id = parsed.data.id;
    const record = await deps.requests.get(id);
    // Ownership first, as for GET /v1/jobs/{id}: another account's query reads as absent.
    if (!record || record.accountId !== c.var.key.accountId) throw new ApiError("not_found", "no such job");
    const start = deps.clock.now();
    // Never longer than a synchronous wait may last (set to fit the platform's request timeout: on Lambda the
    // stream is buffered until it ends); an EventSource then reconnects and gets the current status at once.
    const until = Math.min(
      start + deps.config.maxWaitSeconds * 1000,
      Math.max(start, record.deadline) + STREAM_PAST_DEADLINE_MS,
    );
    return streamSSE(c, async (stream) => {
      let aborted = false;
      stream.onAbort(() => {
        aborted = true;
      });
      let last = "";
      let seq = 0;
      let delay = deps.config.pollInitialMs;
      let view: RequestView = { record, status: record.result?.status ?? "queued" };
      while (!aborted) {
        if (!view.record.result) view = (await settleRequest(deps, id)) ?? view;
        if (view.status !== last) {
          last = view.status;
          await stream.writeSSE({ event: "status", id: String(seq++), data: JSON.stringify(jobView(view)) });
        }
        if (view.record.result || deps.clock.now() >= until) break;
        await deps.clock.sleep(delay);
        delay = Math.min(deps.config.pollMaxMs, delay * 2);
      }
    });
  });
}
