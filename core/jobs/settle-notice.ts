import { z } from "zod";
import { parseStrictJson } from "../receipts/strict-json.ts";
import { ExpertAnswer } from "./schema.ts";

/**
 * Answers one notice carries at most: a query routes at most 8 experts (the API's `k`), and one worker's notice
 * names only the routed jobs it finished itself.
 */
export const MAX_NOTICE_ANSWERS = 8;

/**
 * A notice larger than this goes without its answers (the settler then reads them). SQS bills a message per 64 KB
 * started (and a batch send per 64 KB of the whole batch), so a notice stays within one billed chunk: a k = 2
 * notice with its answers is ~3.5 KB, and ten of them still make one request.
 */
export const MAX_NOTICE_BYTES = 60 * 1024;

/** The settler reads no notice longer than this (ours are at most MAX_NOTICE_BYTES): dropped before parsing. */
export const MAX_NOTICE_TEXT = 64 * 1024;

/**
 * A routed job's answer exactly as its worker stored it (its own first-wins terminal write succeeded), or, in a notice
 * marked `unstored`, as it would have stored it, so that the settler need not read the job back (issue 17: two items
 * read less per k = 2 query). The settler takes it only
 * when a trusted worker serving key signed it for this job, expert, input and time (checkAnswer,
 * functions/api/flow/answers.ts), and reads the job from the table otherwise. What that trusts: that a worker holding
 * a serving key sends only what it stored. One that does not could put another answer of its own signing in a
 * notice than the one in the table; but that principal can already write any job item directly (the GPU task may
 * PutItem and UpdateItem the jobs table: README, least privilege), so a notice gives it no power it lacked. Anyone
 * else with only send access to the settle queue cannot make an answer that passes the check.
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
  /**
   * Answers of jobs this notice's worker stored (a hint like `uids`: checked, never trusted as such). Each is parsed
   * on its own (parseSettleNotice): one that does not parse is left out, and its job read, rather than the notice
   * dropped.
   */
  answers: z.array(z.unknown()).max(MAX_NOTICE_ANSWERS).optional(),
  /**
   * The routed answers it carries were not stored by their worker: they are every routed answer of the request, and
   * this notice is their only copy until the settler stores the result (issue 17: one write less a query). The
   * settler then stores them itself whenever it does not settle the query (functions/settler/settler.ts).
   */
  unstored: z.literal(true).optional(),
});
export interface SettleNotice {
  readonly requestId: string;
  readonly uids?: readonly number[];
  readonly answers: readonly NoticeAnswer[];
  readonly unstored?: true;
  /** Some of its answers did not parse and were left out: it does not carry all it was sent with. */
  readonly incomplete?: true;
}

/**
 * A settle notice from the queue, bounded before it costs anything: null when it is too long, not strict JSON, or not
 * a notice. Its answers that do not parse are left out.
 */
export function parseSettleNotice(text: string): SettleNotice | null {
  if (text.length > MAX_NOTICE_TEXT) return null;
  const json = parseStrictJson(text);
  const parsed = json.ok ? SettleMessage.safeParse(json.value) : null;
  if (!parsed?.success) return null;
  const { requestId, uids, answers, unstored } = parsed.data;
  const kept = (answers ?? []).flatMap((a) => {
    const answer = NoticeAnswer.safeParse(a);
    return answer.success ? [answer.data] : [];
  });
  return {
    requestId,
    ...(uids !== undefined ? { uids } : {}),
    ...(unstored ? { unstored } : {}),
    ...(kept.length < (answers ?? []).length ? { incomplete: true as const } : {}),
    answers: kept,
  };
}

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
  return carryingText(bare, answers) ?? JSON.stringify(bare);
}

/**
 * The text of a notice carrying answers nobody stored (`unstored`), or null when they are more than a notice carries
 * or would make it larger than MAX_NOTICE_BYTES: they cannot be left out, so the worker stores them instead.
 */
export function unstoredNoticeText(
  requestId: string,
  uids: readonly number[],
  answers: readonly NoticeAnswer[],
): string | null {
  return answers.length === 0 ? null : carryingText({ v: 1, requestId, uids, unstored: true }, answers);
}

function carryingText(head: object, answers: readonly NoticeAnswer[]): string | null {
  if (answers.length === 0 || answers.length > MAX_NOTICE_ANSWERS) return null;
  const full = JSON.stringify({ ...head, answers });
  return utf8.encode(full).length <= MAX_NOTICE_BYTES ? full : null;
}
