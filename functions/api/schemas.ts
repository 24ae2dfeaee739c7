import { z } from "@hono/zod-openapi";
import { MAX_ACCOUNT_BALANCE } from "../../core/billing/limits.ts";

export const Scope = z.enum(["infer", "read"]).openapi("Scope");
export const RateLimitBody = z
  .strictObject({ perMinute: z.number().int().min(1).max(1_000_000), burst: z.number().int().min(1).max(100_000) })
  .openapi("RateLimit");

export const SpendLimitBody = z
  .strictObject({
    perDay: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    total: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((l) => l.perDay !== undefined || l.total !== undefined, "name perDay, total or both")
  .openapi("SpendLimit", {
    description: "Most the key may spend (held + charged), micro-credits per UTC day and in total",
  });

export const CreateKeyBody = z
  .strictObject({
    name: z.string().min(1).max(100),
    /** Initial credits, integer micro-credits. */
    credits: z.number().int().min(0).max(MAX_ACCOUNT_BALANCE).optional(),
    rateLimit: RateLimitBody.optional(),
    expiresAt: z.iso.datetime().optional(),
    scopes: z.array(Scope).min(1).max(2).optional(),
    /** Attach the key to an existing account (shared balance) instead of opening a new one. */
    accountId: z.string().min(1).max(64).optional(),
    spendLimit: SpendLimitBody.optional(),
  })
  .openapi("CreateKey");

export const KeyView = z
  .object({
    id: z.string(),
    accountId: z.string(),
    name: z.string(),
    start: z.string(),
    scopes: z.array(Scope),
    rateLimit: RateLimitBody,
    createdAt: z.string(),
    expiresAt: z.string().optional(),
    revokedAt: z.string().optional(),
    rotatedAt: z.string().optional(),
    spendLimit: SpendLimitBody.optional(),
    balance: z.number().int().optional(),
  })
  .openapi("Key");

export const CreatedKey = KeyView.extend({
  key: z.string().openapi({ description: "The secret; shown only once." }),
  webhookSecret: z
    .string()
    .optional()
    .openapi({ description: "Signs this key's webhook deliveries (Standard Webhooks, whsec_…); shown only once." }),
}).openapi("CreatedKey");

export const RotateKeyBody = z
  .strictObject({
    /** How long the old secret keeps working, seconds (default 24 h; 0 ends it now). */
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .optional(),
  })
  .openapi("RotateKey");
export const RotatedKey = KeyView.extend({
  key: z.string().openapi({ description: "The new secret; shown only once." }),
  previousExpiresAt: z.string().openapi({ description: "When the old secret stops working" }),
  webhookSecret: z.string().optional().openapi({ description: "Only when the key had none before; shown once" }),
}).openapi("RotatedKey");

const cursorDoc = { description: "Opaque cursor from a previous page's nextCursor" };
export const ListQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ param: { name: "limit", in: "query" }, example: 20 }),
  cursor: z
    .string()
    .min(1)
    .max(600)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" }, ...cursorDoc }),
});
export const KeyListQuery = ListQuery.extend({
  accountId: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ param: { name: "accountId", in: "query" } }),
});
export const KeyList = z.object({ data: z.array(KeyView), nextCursor: z.string().nullable() }).openapi("KeyList");

export const TopUpBody = z
  .strictObject({ amount: z.number().int().min(1).max(MAX_ACCOUNT_BALANCE), memo: z.string().max(200).optional() })
  .openapi("TopUp");
export const TopUpResult = z
  .object({ accountId: z.string(), balance: z.number().int(), entryId: z.string(), replay: z.boolean() })
  .openapi("TopUpResult");

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: "id", in: "path" } }),
});
export const TaskParam = z.object({
  task: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "task", in: "path" } }),
});
/** A path uid stays a string in the schema (a coerced number would be documented as optional); 0..65535. */
export const UidParam = z.object({
  uid: z
    .string()
    .regex(/^(0|[1-9][0-9]{0,4})$/, "a uid is a decimal integer")
    .refine((s) => Number(s) <= 65535, "a uid is at most 65535")
    .openapi({ param: { name: "uid", in: "path" }, example: "3" }),
});

export const TaskView = z
  .object({
    id: z.string(),
    description: z.string(),
    pricePerAnswer: z.number().int(),
    input: z.record(z.string(), z.unknown()),
    output: z.record(z.string(), z.unknown()),
  })
  .openapi("Task");
export const TaskList = z.object({ tasks: z.array(TaskView) }).openapi("TaskList");

export const WebhookBody = z
  .strictObject({
    url: z.string().min(1).max(2000).openapi({ description: "https URL (http and loopback on the devnet only)" }),
    events: z
      .array(z.enum(["completed", "succeeded", "failed", "canceled", "expired"]))
      .min(1)
      .max(5)
      .optional()
      .openapi({ description: 'Final states to send; default ["completed"] (any of them)' }),
  })
  .openapi("Webhook");

export const InferBody = z
  .strictObject({ input: z.unknown(), k: z.number().int().min(1).max(64).optional(), webhook: WebhookBody.optional() })
  .openapi("InferRequest");

export const JobStatus = z
  .enum(["queued", "running", "succeeded", "failed", "canceled", "expired"])
  .openapi("JobStatus");

export const ReceiptSchema = z
  .object({
    payload: z.object({
      v: z.literal(2),
      requestId: z.string(),
      keyId: z.string(),
      task: z.string(),
      experts: z.array(z.object({ uid: z.number().int(), hotkey: z.string(), gate: z.number() })),
      cost: z.number().int(),
      inputSha256: z.string(),
      outputSha256: z.string(),
      time: z.number().int(),
    }),
    signedBy: z.string(),
    signature: z.string(),
  })
  .openapi("Receipt");

export const AnsweringExpert = z
  .object({
    uid: z.number().int(),
    hotkey: z.string(),
    gate: z.number(),
    signature: z.string(),
    signedBody: z.string(),
    signatureTimestamp: z.string(),
    signatureUuid: z.string(),
    /** ss58 of the worker's serving key that signed the answer's batch (absent on results stored before it was kept). */
    signedBy: z.string().optional(),
    /** The Epistula `signedFor` the worker signed with (may be empty): part of the signed message. */
    signedFor: z.string().optional(),
    /** Inclusion proof of `signedBody` in the batch whose root `signature` covers (RECEIPTS.md). */
    answerProof: z
      .object({ index: z.number().int(), count: z.number().int(), path: z.array(z.string()) })
      .optional()
      .openapi("AnswerProof"),
  })
  .openapi("AnsweringExpert");

export const JobLinks = z.object({ get: z.string(), cancel: z.string(), events: z.string() });
export const Accepted = z.object({ id: z.string(), status: JobStatus, urls: JobLinks }).openapi("Accepted");

/** The query object: every outcome (queued, running, succeeded, failed, canceled, expired) has this shape. */
export const JobView = z
  .object({
    id: z.string(),
    status: JobStatus,
    task: z.string(),
    createdAt: z.iso.datetime(),
    deadline: z.iso.datetime(),
    settledAt: z.iso.datetime().optional(),
    urls: JobLinks,
    output: z.unknown().optional(),
    experts: z.array(AnsweringExpert).optional(),
    failedUids: z.array(z.number().int()).optional(),
    cost: z.number().int().optional(),
    receipt: ReceiptSchema.optional(),
  })
  .openapi("Job");

/** A succeeded query: the query object with its answer. */
export const InferResult = JobView.extend({
  status: z.literal("succeeded"),
  output: z.unknown(),
  experts: z.array(AnsweringExpert),
  cost: z.number().int(),
  receipt: ReceiptSchema,
}).openapi("InferResult");
/** Any other state of the query object (for clients that tell the two apart by status). */
export const UnansweredJob = JobView.extend({
  status: z.enum(["queued", "running", "failed", "canceled", "expired"]),
}).openapi("UnansweredJob");
export const JobList = z.object({ data: z.array(JobView), nextCursor: z.string().nullable() }).openapi("JobList");

export const Usage = z
  .object({
    accountId: z.string(),
    balance: z.number().int(),
    held: z.number().int(),
    spent: z.number().int(),
    /** balance - held: what new queries can hold. */
    available: z.number().int(),
    /** true when `available` pays for fewer than a few queries (API setting lowBalanceQueries) of the dearest task. */
    lowBalance: z.boolean(),
    /** This key's spend counters and limits (micro-credits held or charged), when it has a limit. */
    keySpend: z.object({ today: z.number().int(), total: z.number().int(), limit: SpendLimitBody }).optional(),
    openHolds: z.array(
      z.object({ holdId: z.string(), amount: z.number().int(), deadline: z.iso.datetime(), status: z.string() }),
    ),
    recent: z.array(
      z.object({
        entryId: z.string(),
        kind: z.string(),
        amount: z.number().int(),
        at: z.iso.datetime(),
        holdId: z.string().optional(),
      }),
    ),
  })
  .openapi("Usage");

export const Expert = z
  .object({
    uid: z.number().int(),
    hotkey: z.string(),
    task: z.string(),
    weight: z.number(),
    incentive: z.number(),
    shapley: z.number(),
    active: z.boolean(),
  })
  .openapi("Expert");
export const ExpertList = z.object({ experts: z.array(Expert) }).openapi("ExpertList");
/**
 * The public view of an expert's earnings: totals only. Per-request entries name other accounts' requests and
 * their times, so they are only in the admin view (ExpertEarningEntries).
 */
export const ExpertEarnings = z
  .object({
    uid: z.number().int(),
    hotkey: z.string(),
    /** Micro-credits credited to this hotkey from query fees (its share of each answered query). */
    balance: z.number().int(),
    /** Totals per UTC day over the most recent share entries, newest day first. */
    daily: z.array(z.object({ day: z.string(), amount: z.number().int(), answers: z.number().int() })),
  })
  .openapi("ExpertEarnings");
/** Operator view: each share entry with its request id. */
export const ExpertEarningEntries = z
  .object({
    uid: z.number().int(),
    hotkey: z.string(),
    balance: z.number().int(),
    recent: z.array(
      z.object({
        entryId: z.string(),
        requestId: z.string(),
        amount: z.number().int(),
        at: z.iso.datetime(),
        task: z.string().optional(),
      }),
    ),
  })
  .openapi("ExpertEarningEntries");
/** A validator as the chain stores it (issue 20): integers, stake as a decimal string of rao (a u64). */
export const Validator = z
  .object({
    uid: z.number().int(),
    hotkey: z.string(),
    stake: z
      .string()
      .regex(/^\d+$/)
      .openapi({ description: "Stake in rao (u64, decimal string)", example: "1000000000000" }),
    validatorPermit: z.boolean(),
    validatorTrust: z.number().int().openapi({ description: "ValidatorTrust as the chain's u16 (65535 = 1)" }),
    dividends: z.number().int().openapi({ description: "Dividends as the chain's u16 share (65535 = all)" }),
    lastWeightsBlock: z.number().int().openapi({ description: "LastUpdate: block of its last weights or commit" }),
  })
  .openapi("Validator");
export const ValidatorList = z.object({ validators: z.array(Validator) }).openapi("ValidatorList");
export const Metagraph = z
  .object({
    netuid: z.number().int(),
    block: z.number().int(),
    experts: z.array(Expert),
    validators: z.array(Validator).optional(),
  })
  .openapi("Metagraph");

export const VerifyReceiptBody = z
  .strictObject({ receipt: z.unknown(), output: z.unknown().optional() })
  .openapi("VerifyReceipt");
export const VerifyReceiptResult = z
  .object({ valid: z.boolean(), reason: z.string().optional(), signedBy: z.string().optional(), gateway: z.string() })
  .openapi("VerifyReceiptResult");
