import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { requireKey } from "../auth.ts";
import type { AuthGuard } from "../auth-guard.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError, problemResponses } from "../errors.ts";
import { finishCancel, settleRequest } from "../flow/settle.ts";
import { submitInference, waitForSettlement } from "../flow/submit.ts";
import { refuseUnpaid } from "../paid-gate.ts";
import { Accepted, IdParam, InferBody, InferResult, JobView, TaskList, TaskParam, Usage } from "../schemas.ts";
import { jobLinks, jobView, parseIdempotencyKey, preferredWaitMs } from "../views.ts";

const apiKey = [{ apiKey: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });
const AUTH_ERRORS = ["unauthorized", "forbidden", "rate_limited"] as const;

const listTasks = createRoute({
  method: "get",
  path: "/v1/tasks",
  tags: ["inference"],
  summary: "Tasks on the market, their input/output JSON schemas and price per expert answer (micro-credits)",
  responses: { 200: { description: "Tasks", ...json(TaskList) } },
});

const infer = createRoute({
  method: "post",
  path: "/v1/tasks/{task}/infer",
  tags: ["inference"],
  summary: "Paid query: holds price x k, asks k experts, waits (Prefer: wait=N | respond-async)",
  security: apiKey,
  request: { params: TaskParam, body: { ...json(InferBody), required: true } },
  responses: {
    200: { description: "Answered", ...json(InferResult) },
    202: { description: "Accepted; poll urls.get", ...json(Accepted) },
    ...problemResponses(
      "invalid_request",
      ...AUTH_ERRORS,
      "insufficient_credits",
      "not_found",
      "conflict",
      "payload_too_large",
      "unsupported_media_type",
      "unavailable",
    ),
  },
});

const getJob = createRoute({
  method: "get",
  path: "/v1/jobs/{id}",
  tags: ["inference"],
  summary: "Status and, once done, the result of a query (settles it when its jobs are finished)",
  security: apiKey,
  request: { params: IdParam },
  responses: { 200: { description: "The query", ...json(JobView) }, ...problemResponses(...AUTH_ERRORS, "not_found") },
});

const cancelJob = createRoute({
  method: "post",
  path: "/v1/jobs/{id}/cancel",
  tags: ["inference"],
  summary: "Cancel a query: jobs are canceled and the whole hold released",
  security: apiKey,
  request: { params: IdParam },
  responses: {
    200: { description: "Canceled", ...json(JobView) },
    ...problemResponses(...AUTH_ERRORS, "not_found", "conflict"),
  },
});

const usage = createRoute({
  method: "get",
  path: "/v1/usage",
  tags: ["inference"],
  summary: "Balance, open holds and recent ledger entries of the key's account",
  security: apiKey,
  responses: { 200: { description: "Usage", ...json(Usage) }, ...problemResponses(...AUTH_ERRORS) },
});

export function registerInferenceRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps, guard: AuthGuard): void {
  app.openapi(listTasks, (c) =>
    c.json(
      {
        tasks: deps.tasks.list().map((t) => ({
          id: t.id,
          description: t.description,
          pricePerAnswer: t.pricePerAnswer,
          input: t.inputJsonSchema,
          output: t.outputJsonSchema,
        })),
      },
      200,
    ),
  );

  app.use("/v1/tasks/:task/infer", requireKey(deps, guard, "infer"));
  app.openapi(infer, async (c) => {
    const { task } = c.req.valid("param");
    const body = c.req.valid("json");
    const k = body.k ?? deps.config.defaultK;
    if (k > deps.config.maxK) {
      throw new ApiError("invalid_request", `k must be at most ${deps.config.maxK}`, {
        issues: [{ path: "k", message: `Too big: expected at most ${deps.config.maxK}` }],
      });
    }
    const idem = parseIdempotencyKey(c.req.header("idempotency-key"));
    if (!idem.ok) throw new ApiError("invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters");
    // Before the input is decoded (the expensive step): an account that cannot pay is refused here.
    await refuseUnpaid(deps, { accountId: c.var.key.accountId, task, idempotencyKey: idem.value });
    const first = await submitInference(deps, {
      key: c.get("key"),
      task,
      input: body.input,
      k,
      idempotencyKey: idem.value,
      // The text the validator parsed (hono caches it: no second read of the body).
      bodyText: await c.req.text(),
    });
    const waitMs = preferredWaitMs(c.req.header("prefer"), deps.config.defaultWaitSeconds, deps.config.maxWaitSeconds);
    const view = waitMs > 0 ? await waitForSettlement(deps, first, waitMs) : first;
    const result = view.record.result;
    if (result?.status === "succeeded" && result.receipt) {
      return c.json(
        {
          id: view.record.requestId,
          status: "succeeded" as const,
          output: result.output,
          experts: result.experts,
          cost: result.cost,
          receipt: result.receipt,
        },
        200,
      );
    }
    if (result && (result.status === "failed" || result.status === "expired")) {
      throw new ApiError(
        "unavailable",
        `query ${view.record.requestId} ${result.status}: no expert answered; nothing was charged`,
      );
    }
    if (result?.status === "canceled") throw new ApiError("conflict", `query ${view.record.requestId} was canceled`);
    c.header("location", jobLinks(view.record.requestId).get);
    return c.json({ id: view.record.requestId, status: view.status, urls: jobLinks(view.record.requestId) }, 202);
  });

  app.use("/v1/jobs/:id", requireKey(deps, guard, "read"));
  app.openapi(getJob, async (c) => {
    const id = c.req.valid("param").id;
    // Ownership first: another account's request reads as absent, and its poll settles nothing (no oracle).
    const record = await deps.requests.get(id);
    if (!record || record.accountId !== c.var.key.accountId) throw new ApiError("not_found", "no such job");
    const view = record.result ? { record, status: record.result.status } : await settleRequest(deps, id);
    if (!view) throw new ApiError("not_found", "no such job");
    return c.json(jobView(view), 200);
  });

  app.use("/v1/jobs/:id/cancel", requireKey(deps, guard, "infer"));
  app.openapi(cancelJob, async (c) => {
    const id = c.req.valid("param").id;
    const record = await deps.requests.get(id);
    if (!record || record.accountId !== c.var.key.accountId) throw new ApiError("not_found", "no such job");
    if (record.result) {
      if (record.result.status === "canceled") return c.json(jobView({ record, status: "canceled" }), 200);
      throw new ApiError("conflict", `the query already finished (${record.result.status})`);
    }
    const canceling = (await deps.requests.setPhase(id, ["holding", "dispatched", "canceling"], "canceling")) ?? record;
    const view = await finishCancel(deps, canceling);
    return c.json(jobView(view), 200);
  });

  app.use("/v1/usage", requireKey(deps, guard, "read"));
  app.openapi(usage, async (c) => {
    const accountId = c.var.key.accountId;
    const [account, holds, entries] = await Promise.all([
      deps.ledger.getAccount(accountId),
      deps.ledger.openHolds(accountId),
      deps.ledger.entries(accountId, 50),
    ]);
    return c.json(
      {
        accountId,
        balance: account?.balance ?? 0,
        held: account?.held ?? 0,
        spent: account?.spent ?? 0,
        openHolds: holds.map((h) => ({ holdId: h.holdId, amount: h.amount, deadline: h.deadline, status: h.status })),
        recent: entries.map((e) => ({
          entryId: e.entryId,
          kind: e.kind,
          amount: e.amount,
          at: e.at,
          ...(e.holdId ? { holdId: e.holdId } : {}),
        })),
      },
      200,
    );
  });
}
