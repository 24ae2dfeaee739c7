import type { RequestRecord } from "../ports/requests.ts";
import type { JobRecord } from "./schema.ts";

/** A paid job's id: its request's and its expert's uid (functions/api/flow/ids.ts `jobIdOf` builds the same). */
export const paidJobId = (requestId: string, uid: number) => `${requestId}:${uid}`;

/**
 * The job record of expert `uid` of a paid request, as its creator would have written it (status queued): the
 * request record carries all of it (expert, task, input digest, deadline), so paid jobs get no item of their own
 * until their first terminal write (core/ports/jobs.ts). null when the request routed no such expert (routed or in
 * the shadow lane).
 */
export function paidJobOf(record: RequestRecord, uid: number): JobRecord | null {
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
