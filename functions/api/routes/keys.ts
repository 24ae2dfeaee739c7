import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { MAX_ACCOUNT_BALANCE } from "../../../core/billing/limits.ts";
import { generateApiKey } from "../../../core/keys/api-key.ts";
import { type ApiKeyRecord, DEFAULT_RATE_LIMIT, DEFAULT_SCOPES } from "../../../core/keys/schema.ts";
import type { CreditResult } from "../../../core/ports/ledger.ts";
import { requireAdmin } from "../auth.ts";
import type { AuthGuard } from "../auth-guard.ts";
import type { ApiDeps } from "../deps.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError, problemResponses } from "../errors.ts";
import { fingerprint, randomId } from "../flow/ids.ts";
import {
  CreatedKey,
  CreateKeyBody,
  IdParam,
  KeyList,
  KeyListQuery,
  KeyView,
  RotatedKey,
  RotateKeyBody,
  TopUpBody,
  TopUpResult,
} from "../schemas.ts";
import { iso, keyView, parseIdempotencyKey } from "../views.ts";
import { newWebhookSecret } from "../webhooks/secret.ts";

const admin = [{ adminToken: [] }];
const json = <T>(schema: T) => ({ content: { "application/json": { schema } } });

const createKey = createRoute({
  method: "post",
  path: "/v1/keys",
  tags: ["keys (admin)"],
  summary: "Create an account (or use accountId) and a client key; the secret is returned once",
  security: admin,
  request: { body: { ...json(CreateKeyBody), required: true } },
  responses: {
    201: { description: "Created", ...json(CreatedKey) },
    ...problemResponses(
      "invalid_request",
      "unauthorized",
      "rate_limited",
      "not_found",
      "payload_too_large",
      "unsupported_media_type",
      "balance_limit",
    ),
  },
});

const getKey = createRoute({
  method: "get",
  path: "/v1/keys/{id}",
  tags: ["keys (admin)"],
  summary: "A key and its account's balance",
  security: admin,
  request: { params: IdParam },
  responses: {
    200: { description: "The key", ...json(KeyView) },
    ...problemResponses("unauthorized", "rate_limited", "not_found"),
  },
});

const listKeys = createRoute({
  method: "get",
  path: "/v1/keys",
  tags: ["keys (admin)"],
  summary: "Keys, one account's (accountId) or all, a page at a time (cursor from nextCursor)",
  security: admin,
  request: { query: KeyListQuery },
  responses: {
    200: { description: "A page of keys", ...json(KeyList) },
    ...problemResponses("invalid_request", "unauthorized", "rate_limited"),
  },
});

const rotateKey = createRoute({
  method: "post",
  path: "/v1/keys/{id}/rotate",
  tags: ["keys (admin)"],
  summary: "A new secret for the key; the old one keeps working for graceSeconds (default 24 h)",
  security: admin,
  request: { params: IdParam, body: { ...json(RotateKeyBody), required: false } },
  responses: {
    200: { description: "Rotated; the new secret is returned once", ...json(RotatedKey) },
    ...problemResponses("invalid_request", "unauthorized", "rate_limited", "not_found", "conflict"),
  },
});

const revokeKey = createRoute({
  method: "delete",
  path: "/v1/keys/{id}",
  tags: ["keys (admin)"],
  summary: "Revoke a key (effective at once)",
  security: admin,
  request: { params: IdParam },
  responses: {
    200: { description: "Revoked", ...json(KeyView) },
    ...problemResponses("unauthorized", "rate_limited", "not_found"),
  },
});

const topUp = createRoute({
  method: "post",
  path: "/v1/keys/{id}/credits",
  tags: ["keys (admin)"],
  summary: "Add credits to the key's account; idempotent by Idempotency-Key",
  security: admin,
  request: { params: IdParam, body: { ...json(TopUpBody), required: true } },
  responses: {
    200: { description: "Credited", ...json(TopUpResult) },
    ...problemResponses(
      "invalid_request",
      "unauthorized",
      "rate_limited",
      "not_found",
      "idempotency_mismatch",
      "payload_too_large",
      "unsupported_media_type",
      "balance_limit",
    ),
  },
});

function refuseCredit(reason: Extract<CreditResult, { ok: false }>["reason"]): never {
  if (reason === "conflict") {
    throw new ApiError("idempotency_mismatch", "this Idempotency-Key was used with a different top-up");
  }
  if (reason === "limit") {
    throw new ApiError(
      "balance_limit",
      `the balance would exceed ${MAX_ACCOUNT_BALANCE} micro-credits, the most an account may hold; nothing was credited`,
    );
  }
  throw new ApiError("not_found", "the key's account does not exist");
}

export function registerKeyRoutes(app: OpenAPIHono<ApiEnv>, deps: ApiDeps, guard: AuthGuard): void {
  app.use("/v1/keys", requireAdmin(deps, guard));
  app.use("/v1/keys/*", requireAdmin(deps, guard));

  app.openapi(createKey, async (c) => {
    const body = c.req.valid("json");
    if (body.spendLimit && !deps.spend) throw new ApiError("invalid_request", "spend limits are not enabled here");
    const now = deps.clock.now();
    const expiresAt = body.expiresAt === undefined ? undefined : Date.parse(body.expiresAt);
    const keyId = randomId("key");
    let accountId = body.accountId;
    if (accountId === undefined) {
      accountId = randomId("acct");
      await deps.ledger.openAccount(accountId, body.name, now);
    } else if (!(await deps.ledger.getAccount(accountId))) {
      throw new ApiError("not_found", "no such account");
    }
    if (body.credits !== undefined && body.credits > 0) {
      const credited = await deps.ledger.credit({
        accountId,
        entryId: `initial:${keyId}`,
        amount: body.credits,
        at: now,
        memo: "initial credits",
      });
      // Before the key exists: a refused initial credit leaves no key behind.
      if (!credited.ok) refuseCredit(credited.reason);
    }
    const generated = generateApiKey(deps.config.keyEnvironment);
    const record: ApiKeyRecord = {
      keyId,
      accountId,
      name: body.name,
      hash: generated.hash,
      start: generated.start,
      env: deps.config.keyEnvironment,
      scopes: body.scopes ? [...new Set(body.scopes)] : [...DEFAULT_SCOPES],
      rateLimit: body.rateLimit ?? DEFAULT_RATE_LIMIT,
      ...(body.spendLimit ? { spendLimit: body.spendLimit } : {}),
      webhookSecret: newWebhookSecret(),
      createdAt: now,
      ...(expiresAt !== undefined ? { expiresAt } : {}),
    };
    if (!(await deps.keys.create(record))) throw new Error("key id or hash collision");
    const account = await deps.ledger.getAccount(accountId);
    deps.logger.info("key created", { keyId, accountId });
    return c.json(
      { ...keyView(record, account?.balance), key: generated.secret, webhookSecret: record.webhookSecret },
      201,
    );
  });

  app.openapi(listKeys, async (c) => {
    const q = c.req.valid("query");
    const cursor = q.cursor === undefined ? undefined : decodeOpaque(q.cursor);
    if (cursor === null) throw new ApiError("invalid_request", "cursor: not a cursor this API gave");
    const page = await deps.keys.list({
      limit: q.limit ?? 20,
      ...(q.accountId !== undefined ? { accountId: q.accountId } : {}),
      ...(cursor !== undefined ? { cursor } : {}),
    });
    return c.json(
      {
        data: page.keys.map((k) => keyView(k)),
        nextCursor: page.next === null ? null : Buffer.from(page.next, "utf8").toString("base64url"),
      },
      200,
    );
  });

  app.openapi(rotateKey, async (c) => {
    const { id } = c.req.valid("param");
    // An empty body is allowed: the grace period then is the default.
    const text = await c.req.text();
    const parsed = RotateKeyBody.safeParse(text.trim() === "" ? {} : safeJson(text));
    if (!parsed.success) throw new ApiError("invalid_request", "body: expected {graceSeconds?: integer}");
    const now = deps.clock.now();
    const graceMs = (parsed.data.graceSeconds ?? deps.config.rotationGraceSeconds) * 1000;
    const existing = await deps.keys.getById(id);
    if (!existing) throw new ApiError("not_found", "no such key");
    if (existing.revokedAt !== undefined) throw new ApiError("conflict", "a revoked key cannot be rotated");
    const generated = generateApiKey(existing.env);
    const rotated = await deps.keys.rotate(
      id,
      { hash: generated.hash, start: generated.start, at: now, webhookSecret: newWebhookSecret() },
      now + graceMs,
    );
    if (!rotated) throw new ApiError("conflict", "the key was revoked or rotated meanwhile; read it and retry");
    deps.logger.info("key rotated", { keyId: id });
    return c.json(
      {
        ...keyView(rotated.key),
        key: generated.secret,
        // A key made before webhooks existed gets its webhook secret here, shown this once.
        ...(existing.webhookSecret === undefined && rotated.key.webhookSecret
          ? { webhookSecret: rotated.key.webhookSecret }
          : {}),
        previousExpiresAt: iso(rotated.previous.expiresAt ?? now + graceMs),
      },
      200,
    );
  });

  app.openapi(getKey, async (c) => {
    const key = await deps.keys.getById(c.req.valid("param").id);
    if (!key) throw new ApiError("not_found", "no such key");
    const account = await deps.ledger.getAccount(key.accountId);
    return c.json(keyView(key, account?.balance), 200);
  });

  app.openapi(revokeKey, async (c) => {
    const key = await deps.keys.revoke(c.req.valid("param").id, deps.clock.now());
    if (!key) throw new ApiError("not_found", "no such key");
    deps.logger.info("key revoked", { keyId: key.keyId });
    return c.json(keyView(key), 200);
  });

  app.openapi(topUp, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const idem = parseIdempotencyKey(c.req.header("idempotency-key"));
    if (!idem.ok) throw new ApiError("invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters");
    const key = await deps.keys.getById(id);
    if (!key) throw new ApiError("not_found", "no such key");
    const entryId = `topup:${key.accountId}:${idem.value ?? randomId("t")}`;
    const result = await deps.ledger.credit({
      accountId: key.accountId,
      entryId,
      amount: body.amount,
      at: deps.clock.now(),
      fingerprint: fingerprint(body),
      ...(body.memo ? { memo: body.memo } : {}),
    });
    if (!result.ok) refuseCredit(result.reason);
    return c.json({ accountId: key.accountId, balance: result.account.balance, entryId, replay: result.replay }, 200);
  });
}

/** A list cursor as the client got it (base64url of the store's cursor); null when it is not one. */
function decodeOpaque(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,600}$/.test(cursor)) return null;
  return Buffer.from(cursor, "base64url").toString("utf8");
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
