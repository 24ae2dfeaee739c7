import { z } from "zod";
import { ExpertAnswer } from "./schema.ts";

/**
 * Answers one notice carries at most: a query routes at most 8 experts (the API's `k`), and one worker's notice
 * names only the routed jobs it finished itself.
 */
export const MAX_NOTICE_ANSWERS = 8;

/**
 * A notice larger than this goes without its answers (the settler then reads them): SQS bills a message per 64 KB
 * started, so answers must never make a notice cost two requests.
 */
export const MAX_NOTICE_BYTES = 60 * 1024;

/**
 * A routed job's answer exactly as its worker stored it (its own first-wins terminal write succeeded), so that the
 * settler need not read the job back (issue 17: two items read less per k = 2 query). The settler trusts it no more
 * than a stored answer: it accepts it only when its signature, proof and bindings check against the request
 * (functions/api/flow/answers.ts), and reads the job from the table otherwise.
 */
export const NoticeAnswer = z.strictObject({
  uid: z.number().int().min(0).max(65535),
  answer: ExpertAnswer,
});
export type NoticeAnswer = z.infer<typeof NoticeAnswer>;

/** The message a worker sends after a paid job's terminal write, so that settling needs no client action. */
export const SettleMessage = z.strictObject({
  v: z.literal(1),
  requestId: z.string().min(1).max(200),
  /** The request's experts as the worker read them: the settler reads their jobs along with the request (a hint). */
  uids: z.array(z.number().int().min(0).max(65535)).max(64).optional(),
  /** Answers of jobs this notice's worker stored (a hint like `uids`: checked, never trusted as such). */
  answers: z.array(NoticeAnswer).max(MAX_NOTICE_ANSWERS).optional(),
});
export type SettleMessage = z.infer<typeof SettleMessage>;

const utf8 = new TextEncoder();

/**
 * The notice's text: its answers left out when there are more than a notice carries or they would make it larger
 * than MAX_NOTICE_BYTES (the settler reads those jobs as before).
 */
export function settleNoticeText(
  requestId: string,
  uids: readonly number[] | undefined,
  answers: readonly NoticeAnswer[],
): string {
  const bare = { v: 1, requestId, ...(uids !== undefined ? { uids } : {}) };
  if (answers.length === 0 || answers.length > MAX_NOTICE_ANSWERS) return JSON.stringify(bare);
  const full = JSON.stringify({ ...bare, answers });
  return utf8.encode(full).length <= MAX_NOTICE_BYTES ? full : JSON.stringify(bare);
}
