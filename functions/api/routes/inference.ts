import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import type { ApiKeyRecord } from "../../../core/keys/schema.ts";
import type { WebhookSpec } from "../../../core/ports/requests.ts";
import { utcDay } from "../../../core/ports/spend.ts";
import { requireKey } from "../auth.ts";
import type { AuthGuard } from "../auth-guard.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError, problemResponses } from "../errors.ts";
import { finishCancel, settleRequest } from "../flow/settle.ts";
import { submitInference, waitForSettlement } from "../flow/submit.ts";
import { refuseUnpaid } from "../paid-gate.ts";
import { IdParam, InferBody, JobView, TaskList, TaskParam, Usage, type WebhookBody } from "../schemas.ts";
import { iso, jobLinks, jobView, parseIdempotencyKey, preferredWait } from "../views.ts";
import { checkWebhookUrl } from "../webhooks/url-policy.ts";

const PREFERENCE_APPLIED = {
  "Preference-Applied": {
    description: "The Prefer preference honoured (RFC 7240): respond-async, or wait=N with the N used",
    schema: { type: "string" as const },
  },
};

/** A query's webhook as stored: the URL checked against the policy (SSRF), events defaulted to any final state. */
function checkedWebhook(deps: ApiDeps, key: ApiKeyRecord, hook: z.infer<typeof WebhookBody>): WebhookSpec {
  const refuse = (message: string): never => {
    throw new ApiError("invalid_request", `webhook.url: ${message}`, { issues: [{ path: "webhook.url", message }] });
  };
  if (!deps.webhooks) refuse("webhooks are not enabled on this market");
  if (!key.webhookSecret)
    refuse("this key has no webhook secret yet; rotate it (POST /v1/keys/{id}/rotate) to get one");
  const checked = checkWebhookUrl(hook.url, { allowLocal: deps.config.webhookAllowLocal });
  if (!checked.ok) return refuse(checked.reason);
  return { url: checked.url, events: [...new Set(hook.events ?? (["completed"] as const))] };
}

/** Below this balance usage says `lowBalance`: a few queries of the dearest task at the default k. */
function lowBalanceLine(deps: ApiDeps): number {
  const dearest = Math.max(0, ...deps.tasks.list().map((t) => t.pricePerAnswer));
  return deps.config.lowBalanceQueries * dearest * deps.config.defaultK;
}

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
    200: {
      description:
        "Finished: the query object with its status (succeeded with output and receipt, failed, canceled, expired)",
      headers: PREFERENCE_APPLIED,
      ...json(JobView),
    },
    202: {
      description: "Accepted, still running: poll urls.get or stream urls.events",
      headers: PREFERENCE_APPLIED,
      ...json(JobView),
    },
    ...problemResponses(
      "invalid_request",
      ...AUTH_ERRORS,
      "insufficient_credits",
      "spend_limit",
      "idempotency_mismatch",
      "not_found",
      "conflict",
      "payload_too_large",
      "unsupported_media_type",
      "unavailable",
      "ledger_busy",
      "busy",
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
  summary: "Balance (and whether it runs low), the key's spend against its limits, open holds and recent entries",
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
    const webhook = body.webhook ? checkedWebhook(deps, c.var.key, body.webhook) : undefined;
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
      ...(webhook ? { webhook } : {}),
    });
    const wait = preferredWait(c.req.header("prefer"), deps.config.defaultWaitSeconds, deps.config.maxWaitSeconds);
    const view = wait.ms > 0 ? await waitForSettlement(deps, first, wait.ms) : first;
    if (wait.applied) c.header("preference-applied", wait.applied);
    // Every final state (succeeded, failed, canceled, expired) is the query object with its status, 200: a failed
    // query is an answer about that query, not an error of this call (a retrying client must not resend it).
    if (view.record.result) return c.json(jobView(view), 200);
    c.header("location", jobLinks(view.record.requestId).get);
    return c.json(jobView(view), 202);
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
    const key = c.var.key;
    const now = deps.clock.now();
    const [account, holds, entries, keySpend] = await Promise.all([
      deps.ledger.getAccount(accountId),
      deps.ledger.openHolds(accountId),
      deps.ledger.entries(accountId, 50),
      key.spendLimit && deps.spend ? deps.spend.spent(key.keyId, utcDay(now)) : undefined,
    ]);
    const balance = account?.balance ?? 0;
    return c.json(
      {
        accountId,
        balance,
        held: account?.held ?? 0,
        spent: account?.spent ?? 0,
        // The ledger's balance is what is not held: what new queries can hold.
        available: balance,
        lowBalance: balance < lowBalanceLine(deps),
        ...(keySpend && key.spendLimit ? { keySpend: { ...keySpend, limit: key.spendLimit } } : {}),
        openHolds: holds.map((h) => ({
          holdId: h.holdId,
          amount: h.amount,
          deadline: iso(h.deadline),
          status: h.status,
        })),
        recent: entries.map((e) => ({
          entryId: e.entryId,
          kind: e.kind,
          amount: e.amount,
          at: iso(e.at),
          ...(e.holdId ? { holdId: e.holdId } : {}),
        })),
      },
      200,
    );
  });
}
