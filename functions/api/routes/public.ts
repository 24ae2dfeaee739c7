import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { dailyEarnings } from "../../../core/billing/earnings.ts";
import { parseReceiptJson, verifyReceipt } from "../../../core/receipts/receipt.ts";
import { requireAdmin } from "../auth.ts";
import type { AuthGuard } from "../auth-guard.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError, problemResponses } from "../errors.ts";
import {
  ExpertEarningEntries,
  ExpertEarnings,
  ExpertList,
  Metagraph,
  UidParam,
  VerifyReceiptBody,
  VerifyReceiptResult,
} from "../schemas.ts";
import { iso } from "../views.ts";

const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const experts = createRoute({
  method: "get",
  path: "/v1/experts",
  tags: ["market"],
  summary: "Experts with their weight, incentive and Shapley value",
  responses: { 200: { description: "Experts", ...json(ExpertList) } },
});

/** How many share entries the admin route lists. */
const RECENT_SHARES = 50;
/** How many share entries the public daily totals cover (the lifetime balance is exact regardless). */
const DAILY_WINDOW_SHARES = 1000;

const earnings = createRoute({
  method: "get",
  path: "/v1/experts/{uid}/earnings",
  tags: ["market"],
  summary: "An expert's share of query fees: balance (micro-credits) and totals per day (no per-request data)",
  request: { params: UidParam },
  responses: {
    200: { description: "Earnings", ...json(ExpertEarnings) },
    ...problemResponses("invalid_request", "not_found"),
  },
});

const earningEntries = createRoute({
  method: "get",
  path: "/v1/experts/{uid}/earnings/entries",
  tags: ["market"],
  summary: "Operator only: an expert's recent share entries, each with its request id",
  security: [{ adminToken: [] }],
  request: { params: UidParam },
  responses: {
    200: { description: "Share entries", ...json(ExpertEarningEntries) },
    ...problemResponses("invalid_request", "unauthorized", "rate_limited", "not_found"),
  },
});

const metagraph = createRoute({
  method: "get",
  path: "/v1/metagraph",
  tags: ["market"],
  summary: "The subnet's public view: block, experts and validators",
  responses: { 200: { description: "Metagraph", ...json(Metagraph) } },
});

const verify = createRoute({
  method: "post",
  path: "/v1/receipts/verify",
  tags: ["market"],
  summary: "Checks a receipt's gateway signature (and the output digest when the output is given)",
  request: { body: { ...json(VerifyReceiptBody), required: true } },
  responses: {
    200: { description: "Verdict", ...json(VerifyReceiptResult) },
    ...problemResponses("invalid_request", "payload_too_large", "unsupported_media_type"),
  },
});

export function registerPublicRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps, guard: AuthGuard): void {
  app.openapi(experts, async (c) => c.json({ experts: [...(await deps.directory.experts())] }, 200));
  const expertOf = async (uid: number) => {
    const expert = (await deps.directory.experts()).find((e) => e.uid === uid);
    if (!expert) throw new ApiError("not_found", `no expert with uid ${uid}`);
    return expert;
  };
  app.openapi(earnings, async (c) => {
    const uid = Number(c.req.valid("param").uid);
    const expert = await expertOf(uid);
    const [balance, entries] = await Promise.all([
      deps.ledger.payeeBalance(expert.hotkey),
      deps.ledger.shareEntries(expert.hotkey, DAILY_WINDOW_SHARES),
    ]);
    return c.json({ uid, hotkey: expert.hotkey, balance, daily: dailyEarnings(entries) }, 200);
  });
  app.use("/v1/experts/:uid/earnings/entries", requireAdmin(deps, guard));
  app.openapi(earningEntries, async (c) => {
    const uid = Number(c.req.valid("param").uid);
    const expert = await expertOf(uid);
    const [balance, entries] = await Promise.all([
      deps.ledger.payeeBalance(expert.hotkey),
      deps.ledger.shareEntries(expert.hotkey, RECENT_SHARES),
    ]);
    return c.json(
      {
        uid,
        hotkey: expert.hotkey,
        balance,
        recent: entries.map((e) => ({
          entryId: e.entryId,
          requestId: e.requestId,
          amount: e.amount,
          at: iso(e.at),
          ...(e.task !== undefined ? { task: e.task } : {}),
        })),
      },
      200,
    );
  });
  app.openapi(metagraph, async (c) => {
    const m = await deps.directory.metagraph();
    const validators = m.validators === undefined ? {} : { validators: [...m.validators] };
    return c.json({ netuid: m.netuid, block: m.block, experts: [...m.experts], ...validators }, 200);
  });
  app.openapi(verify, async (c) => {
    c.req.valid("json");
    // The body again, from its text, through the one strict receipt parser: JSON.parse (behind the validator) keeps
    // the last of duplicate keys, so `"cost":1,"cost":2000` would verify while showing a reader another cost.
    const strict = parseReceiptJson(await c.req.text());
    if (!strict.ok)
      throw new ApiError("invalid_request", `the body is not one unambiguous JSON document: ${strict.reason}`);
    const body = strict.value as { receipt?: unknown; output?: unknown };
    const gateway = deps.gatewaySigner.address;
    const verdict = verifyReceipt(deps.verifier, body.receipt, {
      expectedSigner: gateway,
      ...(body.output !== undefined ? { output: body.output } : {}),
    });
    const signedBy = (body.receipt as { signedBy?: unknown } | null)?.signedBy;
    return c.json(
      {
        valid: verdict.ok,
        ...(verdict.ok ? {} : { reason: verdict.reason }),
        ...(typeof signedBy === "string" ? { signedBy } : {}),
        gateway,
      },
      200,
    );
  });
}
