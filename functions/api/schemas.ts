import { z } from "@hono/zod-openapi";
import { MAX_ACCOUNT_BALANCE } from "../../core/billing/limits.ts";

export const Scope = z.enum(["infer", "read"]).openapi("Scope");
export const RateLimitBody = z
  .strictObject({ perMinute: z.number().int().min(1).max(1_000_000), burst: z.number().int().min(1).max(100_000) })
  .openapi("RateLimit");

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
    balance: z.number().int().optional(),
  })
  .openapi("Key");

export const CreatedKey = KeyView.extend({
  key: z.string().openapi({ description: "The secret; shown only once." }),
}).openapi("CreatedKey");

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

export const InferBody = z
  .strictObject({ input: z.unknown(), k: z.number().int().min(1).max(64).optional() })
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
  })
  .openapi("AnsweringExpert");

export const InferResult = z
  .object({
    id: z.string(),
    status: z.literal("succeeded"),
    output: z.unknown(),
    experts: z.array(AnsweringExpert),
    cost: z.number().int(),
    receipt: ReceiptSchema,
  })
  .openapi("InferResult");

export const JobLinks = z.object({ get: z.string(), cancel: z.string() });
export const Accepted = z.object({ id: z.string(), status: JobStatus, urls: JobLinks }).openapi("Accepted");

export const JobView = z
  .object({
    id: z.string(),
    status: JobStatus,
    task: z.string(),
    createdAt: z.number().int(),
    deadline: z.number().int(),
    urls: JobLinks,
    output: z.unknown().optional(),
    experts: z.array(AnsweringExpert).optional(),
    failedUids: z.array(z.number().int()).optional(),
    cost: z.number().int().optional(),
    receipt: ReceiptSchema.optional(),
  })
  .openapi("Job");

export const Usage = z
  .object({
    accountId: z.string(),
    balance: z.number().int(),
    held: z.number().int(),
    spent: z.number().int(),
    openHolds: z.array(
      z.object({ holdId: z.string(), amount: z.number().int(), deadline: z.number().int(), status: z.string() }),
    ),
    recent: z.array(
      z.object({
        entryId: z.string(),
        kind: z.string(),
        amount: z.number().int(),
        at: z.number().int(),
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
        at: z.number().int(),
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
