import type { ReceivedMessage } from "../../core/ports/queue.ts";

/**
 * What both queue adapters return: the port's message plus its string message attributes, so that a reader of
 * the dead-letter queue can see why a message landed there (`reason`, `receiveCount`, `sourceMessageId`).
 */
export interface QueueMessage extends ReceivedMessage {
  readonly attributes: Readonly<Record<string, string>>;
}

/** Message attribute names set by `deadLetter`. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: "reason",
  receiveCount: "receiveCount",
  sourceMessageId: "sourceMessageId",
} as const;

/** SQS caps one attribute value with the body at the message size; a reason is a short diagnosis, not a dump. */
export const MAX_REASON_CHARS = 1_000;

export function truncateReason(reason: string): string {
  return reason.length <= MAX_REASON_CHARS ? reason : `${reason.slice(0, MAX_REASON_CHARS - 1)}…`;
}

/** SQS visibility bounds (0 s .. 12 h). */
export function clampVisibility(seconds: number): number {
  return Math.min(43_200, Math.max(0, Math.round(seconds)));
}
