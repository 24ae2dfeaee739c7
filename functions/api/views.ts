import type { z } from "@hono/zod-openapi";
import type { ApiKeyRecord } from "../../core/keys/schema.ts";
import type { RequestView } from "./flow/settle.ts";
import type { JobView, KeyView } from "./schemas.ts";

export const iso = (ms: number) => new Date(ms).toISOString();

export function keyView(key: ApiKeyRecord, balance?: number): z.infer<typeof KeyView> {
  return {
    id: key.keyId,
    accountId: key.accountId,
    name: key.name,
    start: key.start,
    scopes: key.scopes,
    rateLimit: key.rateLimit,
    createdAt: iso(key.createdAt),
    ...(key.expiresAt !== undefined ? { expiresAt: iso(key.expiresAt) } : {}),
    ...(key.revokedAt !== undefined ? { revokedAt: iso(key.revokedAt) } : {}),
    ...(key.rotatedAt !== undefined ? { rotatedAt: iso(key.rotatedAt) } : {}),
    ...(key.spendLimit !== undefined ? { spendLimit: key.spendLimit } : {}),
    ...(balance !== undefined ? { balance } : {}),
  };
}

export const jobLinks = (id: string) => ({
  get: `/v1/jobs/${id}`,
  cancel: `/v1/jobs/${id}/cancel`,
  events: `/v1/jobs/${id}/events`,
});

export function jobView(view: RequestView): z.infer<typeof JobView> {
  const { record, status } = view;
  const result = record.result;
  return {
    id: record.requestId,
    status,
    task: record.task,
    createdAt: iso(record.createdAt),
    deadline: iso(record.deadline),
    urls: jobLinks(record.requestId),
    ...(result
      ? {
          settledAt: iso(result.settledAt),
          ...(result.output !== undefined ? { output: result.output } : {}),
          experts: result.experts,
          failedUids: result.failedUids,
          cost: result.cost,
          ...(result.receipt ? { receipt: result.receipt } : {}),
        }
      : {}),
  };
}

/** `Prefer: respond-async` -> 0; `Prefer: wait=N` -> N (capped); otherwise the default. Seconds -> ms. */
export function preferredWaitMs(header: string | undefined, defaultSeconds: number, maxSeconds: number): number {
  return preferredWait(header, defaultSeconds, maxSeconds).ms;
}

/**
 * preferredWaitMs with the `Preference-Applied` value (RFC 7240) of the preference honoured: `respond-async`, or
 * `wait=N` with the N actually used (capped); undefined when no preference was given.
 */
export function preferredWait(
  header: string | undefined,
  defaultSeconds: number,
  maxSeconds: number,
): { ms: number; applied?: string } {
  const prefs = (header ?? "")
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  if (prefs.includes("respond-async")) return { ms: 0, applied: "respond-async" };
  for (const p of prefs) {
    const m = /^wait\s*=\s*(\d{1,6})$/.exec(p);
    if (m?.[1] !== undefined) {
      const seconds = Math.min(Number(m[1]), maxSeconds);
      return { ms: seconds * 1000, applied: `wait=${seconds}` };
    }
  }
  return { ms: Math.min(defaultSeconds, maxSeconds) * 1000 };
}

/** Idempotency keys: 1-255 visible ASCII characters, or absent. */
export function parseIdempotencyKey(
  header: string | undefined,
): { ok: true; value: string | undefined } | { ok: false } {
  if (header === undefined) return { ok: true, value: undefined };
  return /^[\x21-\x7e]{1,255}$/.test(header) ? { ok: true, value: header } : { ok: false };
}
