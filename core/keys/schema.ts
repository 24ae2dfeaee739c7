import { z } from "zod";

/** What a key may do. `infer` = paid queries; `read` = usage, jobs, tasks. */
export const Scope = z.enum(["infer", "read"]);
export type Scope = z.infer<typeof Scope>;
export const DEFAULT_SCOPES: readonly Scope[] = ["infer", "read"];

/** Token bucket: `perMinute` sustained, `burst` at once. */
export const RateLimit = z.object({
  perMinute: z.number().int().min(1).max(1_000_000),
  burst: z.number().int().min(1).max(100_000),
});
export type RateLimit = z.infer<typeof RateLimit>;
export const DEFAULT_RATE_LIMIT: RateLimit = { perMinute: 600, burst: 60 };

/** Most a key may spend, micro-credits: per UTC day and in total (held + captured; a hold's unspent part returns). */
export const SpendLimit = z
  .object({
    perDay: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    total: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((l) => l.perDay !== undefined || l.total !== undefined, "name perDay, total or both");
export type SpendLimit = z.infer<typeof SpendLimit>;

/** A stored key: the secret itself is never here, only its hash and display start. */
export const ApiKeyRecord = z.object({
  keyId: z.string().min(1),
  accountId: z.string().min(1),
  name: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  start: z.string(),
  env: z.enum(["live", "test"]),
  scopes: z.array(Scope),
  rateLimit: RateLimit,
  createdAt: z.number().int(),
  expiresAt: z.number().int().optional(),
  revokedAt: z.number().int().optional(),
  spendLimit: SpendLimit.optional(),
  /**
   * The key's webhook signing secret (`whsec_…`, Standard Webhooks): symmetric, so it must be stored; shown to the
   * client once (at creation or rotation) and never in a key view.
   */
  webhookSecret: z.string().startsWith("whsec_").optional(),
  /** Set on the new record by a rotation: when the secret was last replaced. */
  rotatedAt: z.number().int().optional(),
  /** The hash of the secret this one replaced (still valid for its grace period; revoked with this one). */
  previousHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type ApiKeyRecord = z.infer<typeof ApiKeyRecord>;

/** Verification outcome, as Unkey's enum; the public edge maps every non-valid one to the same 401. */
export type KeyState = "valid" | "revoked" | "expired";

export function keyState(key: ApiKeyRecord, now: number): KeyState {
  if (key.revokedAt !== undefined && key.revokedAt <= now) return "revoked";
  if (key.expiresAt !== undefined && key.expiresAt <= now) return "expired";
  return "valid";
}
