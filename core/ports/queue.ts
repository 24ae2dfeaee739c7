/**
 * JobQueue port: at-least-once delivery of job messages (SQS in the cloud, fauxqs locally).
 * Bodies travel as strings; consumers parse them with the zod schema of the message kind.
 */
export interface ReceivedMessage {
  /** Queue-assigned message id (stable across redeliveries). */
  readonly messageId: string;
  /** Handle for delete / visibility changes; changes on every delivery. */
  readonly receipt: string;
  readonly body: string;
  /** How many times the queue has delivered this message, this delivery included (ApproximateReceiveCount). */
  readonly receiveCount: number;
  /** When the message was first sent (ms since epoch). */
  readonly sentAt: number;
}

export interface ReceiveOptions {
  /** 1..10 */
  readonly max: number;
  /** Long-poll wait, 0..20 s. */
  readonly waitSeconds: number;
  /** Visibility timeout for these deliveries; the queue default when omitted. */
  readonly visibilitySeconds?: number;
  readonly signal?: AbortSignal;
}

export interface JobQueue {
  send(body: string, options?: { readonly delaySeconds?: number }): Promise<void>;
  /** Sends up to any number of bodies (the adapter splits into batches of 10). */
  sendMany(bodies: readonly string[]): Promise<void>;
  receive(options: ReceiveOptions): Promise<ReceivedMessage[]>;
  extendVisibility(receipt: string, seconds: number): Promise<void>;
  delete(receipt: string): Promise<void>;
  /** Moves a message to the dead-letter queue at once, with the reason, and deletes it from this queue. */
  deadLetter(message: ReceivedMessage, reason: string): Promise<void>;
  /** Approximate number of visible + in-flight messages (for health and metrics). */
  depth(): Promise<{ readonly visible: number; readonly inFlight: number }>;
}
