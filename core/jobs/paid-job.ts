import { signEpistula } from "../epistula/epistula.ts";
import type { Signer } from "../ports/signer.ts";
import { paidQuerySignedText } from "./integrity.ts";
import type { JobRecord, PaidQuery, QueryExpert } from "./schema.ts";

/** A paid job's id: its request's and its expert's uid (functions/api/flow/ids.ts `jobIdOf` builds the same). */
export const paidJobId = (requestId: string, uid: number) => `${requestId}:${uid}`;

/** What a paid job is run on: its request record, or the facts of it that its gateway signed (PaidQuery). */
export interface QueryFacts {
  readonly requestId: string;
  readonly task: string;
  readonly inputDigest?: string | undefined;
  readonly createdAt: number;
  readonly deadline: number;
  readonly experts: readonly { readonly uid: number; readonly hotkey: string }[];
  readonly shadow?: readonly { readonly uid: number; readonly hotkey: string }[] | undefined;
}

const pairsOf = (experts: QueryFacts["experts"]): QueryExpert[] => experts.map((e) => [e.uid, e.hotkey]);

/**
 * A paid query's facts for its jobs' messages, signed once by the gateway (issue 17): a worker that trusts the
 * gateway's key checks a first delivery against them rather than reading the request record. Not bound to one
 * receiver: every job of the query carries the same signature.
 */
export function signPaidQuery(
  signer: Signer,
  record: QueryFacts & { readonly inputDigest: string },
  now: number,
): PaidQuery {
  const experts = pairsOf(record.experts);
  const shadow = record.shadow && record.shadow.length > 0 ? pairsOf(record.shadow) : undefined;
  const text = paidQuerySignedText({ ...record, experts, shadow });
  return {
    createdAt: record.createdAt,
    experts,
    ...(shadow ? { shadow } : {}),
    signature: signEpistula(signer, text, "", { now }),
  };
}

/**
 * The job record of expert `uid` of a paid request, as its creator would have written it (status queued): the
 * request record carries all of it (expert, task, input digest, deadline), so paid jobs get no item of their own
 * until their first terminal write (core/ports/jobs.ts). null when the request routed no such expert (routed or in
 * the shadow lane).
 */
export function paidJobOf(record: QueryFacts, uid: number): JobRecord | null {
  const expert =
    record.experts.find((e) => e.uid === uid) ?? (record.shadow ?? []).find((e) => e.uid === uid) ?? undefined;
  if (expert === undefined) return null;
  return {
    jobId: paidJobId(record.requestId, uid),
    requestId: record.requestId,
    kind: "paid",
    task: record.task,
    uid,
    hotkey: expert.hotkey,
    ...(record.inputDigest === undefined ? {} : { inputDigest: record.inputDigest }),
    status: "queued",
    createdAt: record.createdAt,
    deadline: record.deadline,
    attempts: 0,
  };
}

/**
 * What a paid request's answers may take in all: its jobs are stored together (one DynamoDB item, at most 400 KB,
 * adapters/tables/jobs-keys.ts), with room left for names, errors and the other fields.
 */
export const PAID_ANSWERS_BUDGET_BYTES = 300 * 1024;

/**
 * The longest answer body a job of `record` may store: its share of the budget (an answer stores its body and its
 * output, so about twice the body). A larger one fails its own job, and never crowds out the request's other
 * answers: ~51 KB at k = 2 with one shadow job, ~15 KB at k = 8 with two (a digit answer is ~0.5 KB, a 5 s speech
 * answer ~4 KB).
 */
export function answerBodyBudget(record: Pick<QueryFacts, "experts" | "shadow">): number {
  const jobs = record.experts.length + (record.shadow?.length ?? 0);
  return Math.floor(PAID_ANSWERS_BUDGET_BYTES / (2 * Math.max(1, jobs)));
}
