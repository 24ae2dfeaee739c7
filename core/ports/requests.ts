import { z } from "zod";
import { AnswerProof, Sha256Hex } from "../jobs/integrity.ts";
import type { JobRecord } from "../jobs/schema.ts";
import { SignedReceipt } from "../receipts/receipt.ts";

/** One expert chosen for a request, with its gate (the router's mixture weight) at routing time. */
export const RoutedExpert = z.object({
  uid: z.number().int().min(0).max(65535),
  hotkey: z.string().min(1).max(64),
  gate: z.number().min(0).max(1),
});
export type RoutedExpert = z.infer<typeof RoutedExpert>;

export const RequestStatus = z.enum(["queued", "running", "succeeded", "failed", "canceled", "expired"]);
export type RequestStatus = z.infer<typeof RequestStatus>;

/** The settled outcome of a paid query, written once (first writer wins) and served on every later poll. */
export const RequestResult = z.object({
  status: z.enum(["succeeded", "failed", "canceled", "expired"]),
  output: z.unknown().optional(),
  experts: z.array(
    RoutedExpert.extend({
      /** Epistula signature (0x hex) of the worker's serving key over the root of the answer's batch. */
      signature: z.string(),
      signedBody: z.string(),
      signatureTimestamp: z.string(),
      signatureUuid: z.string(),
      /** The serving key that signed (ss58) and the address it signed for: a verifier needs both (RECEIPTS.md). */
      signedBy: z.string().optional(),
      signedFor: z.string().optional(),
      /** Where `signedBody` sits in the signed batch (core/jobs/answer-batch.ts); absent on results before issue 17. */
      answerProof: AnswerProof.optional(),
    }),
  ),
  failedUids: z.array(z.number().int()),
  cost: z.number().int().min(0),
  receipt: SignedReceipt.optional(),
  settledAt: z.number().int(),
});
export type RequestResult = z.infer<typeof RequestResult>;

/** Final states a webhook may name; `completed` is any of them (the default). */
export const WebhookEvent = z.enum(["completed", "succeeded", "failed", "canceled", "expired"]);
export type WebhookEvent = z.infer<typeof WebhookEvent>;
export const WebhookSpec = z.object({ url: z.string().min(1).max(2000), events: z.array(WebhookEvent).min(1).max(5) });
export type WebhookSpec = z.infer<typeof WebhookSpec>;

/** A paid query: one per `POST /v1/tasks/{task}/infer`, fanning out to one job per routed expert. */
export const RequestRecord = z.object({
  requestId: z.string().min(1),
  accountId: z.string(),
  keyId: z.string(),
  task: z.string(),
  /** sha256 of the canonical request body: the same Idempotency-Key with another body is a conflict. */
  bodySha256: z.string(),
  /** sha256 of the canonical job input (core/jobs/integrity.ts): answers and the receipt must carry this digest. */
  inputDigest: Sha256Hex.optional(),
  experts: z.array(RoutedExpert),
  /**
   * Newcomers that also answer this query in the exploration lane (issue 15): their jobs run and their signed
   * answers are recorded for the validator, but they are not averaged into the result, not held for, not charged.
   */
  shadow: z.array(RoutedExpert).max(4).optional(),
  pricePerAnswer: z.number().int().min(0),
  holdAmount: z.number().int().min(0),
  /**
   * `holding` until the hold is in place (a request with an Idempotency-Key; one with a random id starts
   * `dispatched`, see functions/api/flow/submit.ts), `dispatched` once jobs may be enqueued, `canceling` while a
   * cancel runs.
   */
  phase: z.enum(["holding", "dispatched", "canceling", "settled"]),
  createdAt: z.number().int(),
  deadline: z.number().int(),
  result: RequestResult.optional(),
  /** Where to POST the query's final state (checked and normalised by the API). */
  webhook: WebhookSpec.optional(),
  /** The hold was counted against the key's spend limits (its unspent part goes back when the query settles). */
  spendCounted: z.boolean().optional(),
});
export type RequestRecord = z.infer<typeof RequestRecord>;

/** Requests port (the `jobs` table, `pk=REQ#<id>`); single-item conditional writes. */
export type DiscardOutcome = "discarded" | "kept" | "absent";

export interface RequestStore {
  /** false when the id exists. */
  create(record: RequestRecord): Promise<boolean>;
  get(requestId: string): Promise<RequestRecord | null>;
  /**
   * Many at once, strongly consistent unless `eventually` (half the read units; may miss a record just written or
   * show an earlier state of it) (one BatchGet per 100): missing, expired or corrupt ones are left out.
   */
  getMany(requestIds: readonly string[], options?: { readonly eventually?: boolean }): Promise<RequestRecord[]>;
  /**
   * A request and those of `jobIds` that exist (live, not corrupt), in one read where the store can (the settler:
   * one BatchGetItem instead of a GetItem and a BatchGetItem, issue 17). Strongly consistent unless `eventually`
   * (half the read units; it may miss a write of the last second). Optional: without it, callers read `get` then
   * the JobStore's `getMany`.
   */
  getWithJobs?(
    requestId: string,
    jobIds: readonly string[],
    options?: { readonly eventually?: boolean },
  ): Promise<{ record: RequestRecord | null; jobs: JobRecord[] }>;
  /** Moves `phase` from one of `from` to `to`; returns the record as it is afterwards, or null when refused. */
  setPhase(
    requestId: string,
    from: readonly RequestRecord["phase"][],
    to: RequestRecord["phase"],
  ): Promise<RequestRecord | null>;
  /** Writes the result if none is there yet; returns the stored record (the first result wins). */
  settle(requestId: string, result: RequestResult): Promise<RequestRecord | null>;
  /**
   * The account's requests, newest first, `limit` at most, those whose sort key (core/jobs/list-cursor.ts
   * `requestSortKey`) is below `before`. `next`: the sort key to pass as `before` for the following page, or null at
   * the end.
   */
  listByAccount(
    accountId: string,
    page: { readonly limit: number; readonly before?: string },
  ): Promise<{ readonly records: RequestRecord[]; readonly next: string | null }>;
  /**
   * Deletes a request that never got a hold (so the same Idempotency-Key can be retried after a 402), unless a
   * cancel took it over or it has a result: then "kept" (whoever settles it gives its spend reservation back).
   * Only its submit calls it, before any message is sent.
   */
  discard(requestId: string): Promise<DiscardOutcome>;
}
