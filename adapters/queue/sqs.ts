import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { z } from "zod";
import { eachBounded } from "../../core/batching/bounded.ts";
import type { JobQueue, ReceivedMessage, ReceiveOptions } from "../../core/ports/queue.ts";
import { Coalescer } from "./coalescer.ts";
import { clampVisibility, DEAD_LETTER_ATTRIBUTES, type QueueMessage, truncateReason } from "./message.ts";

export interface SqsJobQueueOptions {
  readonly sqs: SQSClient;
  /**
   * The client for receives given an abort signal (a consumer's long polls), when it should not be `sqs`. A call
   * given options resolves its middleware anew and drops the client's cached stacks (`cacheMiddleware`,
   * adapters/aws/clients.ts), so a long-polling consumer's signals would undo the cache of every other call on
   * `sqs`; a client of their own (without the cache) also keeps the polls, each holding a socket for up to 20 s, off
   * the sockets of the sends. Default: `sqs`.
   */
  readonly pollSqs?: SQSClient;
  /** Physical queue name (prefix included); the URL is resolved with GetQueueUrl on first use. */
  readonly queueName: string;
  /** Physical DLQ name for `deadLetter`; when omitted it is read from the queue's RedrivePolicy on first use. */
  readonly deadLetterQueueName?: string;
  /** Rounds of resending the entries a SendMessageBatch reported as failed, before `sendMany` throws. Default 3. */
  readonly batchRetries?: number;
  /**
   * Gathers `send` (without delay) and `delete` calls made within this many ms into SendMessageBatch and
   * DeleteMessageBatch requests of up to 10 (one SQS request, billed once, instead of ten); each caller still
   * awaits its own message. Absent: one request per call.
   */
  readonly coalesceMs?: number;
  /**
   * With `coalesceMs`: a send whose body equals one still waiting joins it (one message). For queues of idempotent
   * notices only (the settle queue: the k jobs of a query finishing in one batch send one notice, not k).
   */
  readonly dedupeSends?: boolean;
  /**
   * The sends' window when it should differ from `coalesceMs`: 0 gathers what is sent in the same turn of the event
   * loop and, under load, during the previous batch's round trip, without delaying a lone send (the API's jobs).
   */
  readonly sendWindowMs?: number;
  /**
   * The deletes' window when it should differ from `coalesceMs` (SQS_DELETE_WINDOW_MS: a delete waits for nobody,
   * so it may wait for company). A caller that must not wait that long does not await its delete.
   */
  readonly deleteWindowMs?: number;
}

const MAX_BATCH_ENTRIES = 10;
// The classic SQS limit for a whole batch; staying under it keeps us valid on every SQS-compatible server.
const MAX_BATCH_BYTES = 256 * 1024;
const SEND_CONCURRENCY = 4;

const RedrivePolicy = z.object({ deadLetterTargetArn: z.string().min(1) });

/** Thrown when some bodies of `sendMany` could not be sent after the retries. */
export class SendBatchError extends Error {
  override readonly name = "SendBatchError";
  constructor(
    readonly failedCount: number,
    readonly codes: readonly string[],
  ) {
    super(`${failedCount} message(s) could not be sent: ${[...new Set(codes)].join(", ")}`);
  }
}

/**
 * JobQueue on Amazon SQS (or fauxqs). Queue URLs are only used as identifiers: every call goes to the client's
 * endpoint (see createSqsClient), never to the host inside the URL.
 */
export class SqsJobQueue implements JobQueue {
  private readonly sqs: SQSClient;
  private readonly pollSqs: SQSClient;
  private readonly queueName: string;
  private readonly deadLetterQueueName: string | undefined;
  private readonly batchRetries: number;
  private queueUrl: Promise<string> | undefined;
  private deadLetterUrl: Promise<string> | undefined;
  private readonly sends: Coalescer<string> | undefined;
  private readonly deletes: Coalescer<string> | undefined;

  constructor(options: SqsJobQueueOptions) {
    this.sqs = options.sqs;
    this.pollSqs = options.pollSqs ?? options.sqs;
    this.queueName = options.queueName;
    this.deadLetterQueueName = options.deadLetterQueueName;
    this.batchRetries = options.batchRetries ?? 3;
    if (options.coalesceMs !== undefined) {
      this.sends = new Coalescer(
        // Per body: a batch holds several callers' bodies (several queries' jobs), so an entry SQS keeps refusing
        // fails its own caller only; the others' messages were sent and their callers must not think otherwise.
        async (bodies) => this.sendEntries(await this.url(), bodies),
        options.sendWindowMs ?? options.coalesceMs,
        MAX_BATCH_ENTRIES,
        (batch, body) => byteSize(batch) + Buffer.byteLength(body, "utf8") <= MAX_BATCH_BYTES,
        options.dedupeSends === true,
      );
      this.deletes = new Coalescer(
        (receipts) => this.deleteBatch(receipts),
        options.deleteWindowMs ?? options.coalesceMs,
        MAX_BATCH_ENTRIES,
      );
    }
  }

  /** The queue URL (resolved once, retried on the next call if resolution failed). */
  url(): Promise<string> {
    this.queueUrl ??= this.resolveUrl(this.queueName).catch((error: unknown) => {
      this.queueUrl = undefined;
      throw error;
    });
    return this.queueUrl;
  }

  async send(body: string, options?: { readonly delaySeconds?: number }): Promise<void> {
    if (this.sends && options?.delaySeconds === undefined) return this.sends.add(body);
    const QueueUrl = await this.url();
    const delay = options?.delaySeconds;
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: body,
        ...(delay !== undefined ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(delay))) } : {}),
      }),
    );
  }

  async sendMany(bodies: readonly string[]): Promise<void> {
    if (bodies.length === 0) return;
    // A few bodies (a query's jobs) go through the coalescer when there is one: concurrent queries then share
    // SendMessageBatch requests (issue 17). A large send (an epoch's jobs) is batched here, SEND_CONCURRENCY at once.
    const sends = this.sends;
    if (sends && bodies.length < MAX_BATCH_ENTRIES) {
      await Promise.all(bodies.map((body) => sends.add(body)));
      return;
    }
    const QueueUrl = await this.url();
    await eachBounded(splitIntoBatches(bodies), SEND_CONCURRENCY, (batch) => this.sendBatch(QueueUrl, batch));
  }

  /** Resolves with [] when `signal` aborts (a stopping consumer wants an empty poll, not an error). */
  async receive(options: ReceiveOptions): Promise<QueueMessage[]> {
    if (options.signal?.aborted) return [];
    const QueueUrl = await this.url();
    try {
      // Options only with a signal: a call without them keeps (and uses) the client's cached middleware.
      const client = options.signal ? this.pollSqs : this.sqs;
      const output = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: Math.min(10, Math.max(1, Math.floor(options.max))),
          WaitTimeSeconds: Math.min(20, Math.max(0, Math.floor(options.waitSeconds))),
          ...(options.visibilitySeconds !== undefined
            ? { VisibilityTimeout: clampVisibility(options.visibilitySeconds) }
            : {}),
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          MessageAttributeNames: ["All"],
        }),
        options.signal ? { abortSignal: options.signal } : undefined,
      );
      return (output.Messages ?? []).flatMap((message) => toQueueMessage(message) ?? []);
    } catch (error) {
      if (options.signal?.aborted) return [];
      throw error;
    }
  }

  async extendVisibility(receipt: string, seconds: number): Promise<void> {
    const QueueUrl = await this.url();
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: clampVisibility(seconds),
      }),
    );
  }

  async delete(receipt: string): Promise<void> {
    if (this.deletes) return this.deletes.add(receipt);
    const QueueUrl = await this.url();
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: receipt }));
  }

  /**
   * Sends the body to the DLQ with `reason`, `receiveCount` and `sourceMessageId` attributes, then deletes it
   * here. Sent first: a crash in between leaves a duplicate in the DLQ rather than a lost message.
   */
  async deadLetter(message: ReceivedMessage, reason: string): Promise<void> {
    const [QueueUrl, DeadLetterUrl] = await Promise.all([this.url(), this.deadLetterQueueUrl()]);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: DeadLetterUrl,
        MessageBody: message.body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: truncateReason(reason) || "-" },
          [DEAD_LETTER_ATTRIBUTES.receiveCount]: { DataType: "Number", StringValue: String(message.receiveCount) },
          [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: "String", StringValue: message.messageId },
        },
      }),
    );
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.receipt }));
  }

  async depth(): Promise<{ readonly visible: number; readonly inFlight: number }> {
    const QueueUrl = await this.url();
    const output = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: toCount(output.Attributes?.ApproximateNumberOfMessages),
      inFlight: toCount(output.Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  }

  private async resolveUrl(name: string): Promise<string> {
    const output = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (!output.QueueUrl) throw new Error(`GetQueueUrl returned no URL for queue ${name}`);
    return output.QueueUrl;
  }

  private deadLetterQueueUrl(): Promise<string> {
    this.deadLetterUrl ??= this.resolveDeadLetterName()
      .then((name) => this.resolveUrl(name))
      .catch((error: unknown) => {
        this.deadLetterUrl = undefined;
        throw error;
      });
    return this.deadLetterUrl;
  }

  private async resolveDeadLetterName(): Promise<string> {
    if (this.deadLetterQueueName !== undefined) return this.deadLetterQueueName;
    const output = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await this.url(), AttributeNames: ["RedrivePolicy"] }),
    );
    const raw = output.Attributes?.RedrivePolicy;
    const parsed = raw === undefined ? undefined : RedrivePolicy.safeParse(safeJson(raw));
    // An SQS ARN ends with the queue name: arn:aws:sqs:<region>:<account>:<name>
    const name = parsed?.success ? parsed.data.deadLetterTargetArn.split(":").at(-1) : undefined;
    if (!name) throw new Error(`queue ${this.queueName} has no dead-letter queue configured`);
    return name;
  }

  /** One DeleteMessageBatch; per receipt, undefined or the error SQS reported for it. */
  private async deleteBatch(receipts: readonly string[]): Promise<(Error | undefined)[]> {
    const output = await this.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: await this.url(),
        Entries: receipts.map((ReceiptHandle, index) => ({ Id: String(index), ReceiptHandle })),
      }),
    );
    const failed = new Map((output.Failed ?? []).map((entry) => [entry.Id, entry.Code ?? "Unknown"]));
    return receipts.map((_, index) => {
      const code = failed.get(String(index));
      return code === undefined ? undefined : new Error(`delete failed: ${code}`);
    });
  }

  private async sendBatch(QueueUrl: string, bodies: readonly string[]): Promise<void> {
    const failed = (await this.sendEntries(QueueUrl, bodies)).flatMap((error) => (error ? [error] : []));
    const codes = failed.flatMap((error) => error.codes);
    if (failed.length > 0) throw new SendBatchError(failed.length, codes);
  }

  /**
   * One SendMessageBatch, then resends of the entries it reported as failed; per body (same order), undefined once
   * sent or the SendBatchError of that body after the retries.
   */
  private async sendEntries(QueueUrl: string, bodies: readonly string[]): Promise<(SendBatchError | undefined)[]> {
    let pending: SendMessageBatchRequestEntry[] = bodies.map((body, index) => ({
      Id: String(index),
      MessageBody: body,
    }));
    let codes = new Map<string, string>();
    for (let round = 0; round <= this.batchRetries && pending.length > 0; round++) {
      if (round > 0) await sleep(50 * 2 ** (round - 1));
      const output = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: pending }));
      codes = new Map((output.Failed ?? []).map((entry) => [entry.Id ?? "", entry.Code ?? "Unknown"]));
      pending = pending.filter((entry) => codes.has(entry.Id ?? ""));
    }
    const failed = new Map(pending.map((entry) => [entry.Id ?? "", codes.get(entry.Id ?? "") ?? "Unknown"]));
    return bodies.map((_, index) => {
      const code = failed.get(String(index));
      return code === undefined ? undefined : new SendBatchError(1, [code]);
    });
  }
}

function byteSize(bodies: readonly string[]): number {
  return bodies.reduce((n, body) => n + Buffer.byteLength(body, "utf8"), 0);
}

function splitIntoBatches(bodies: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body, "utf8");
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function toQueueMessage(message: Message): QueueMessage | undefined {
  // Without these the message cannot be processed or acknowledged; SQS always sets them.
  if (message.MessageId === undefined || message.ReceiptHandle === undefined || message.Body === undefined) {
    return undefined;
  }
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (value.StringValue !== undefined) attributes[name] = value.StringValue;
  }
  return {
    messageId: message.MessageId,
    receipt: message.ReceiptHandle,
    body: message.Body,
    receiveCount: Math.max(1, toCount(message.Attributes?.ApproximateReceiveCount)),
    sentAt: toCount(message.Attributes?.SentTimestamp) || Date.now(),
    attributes,
  };
}

function toCount(value: string | undefined): number {
  const parsed = Number.parseInt(value ?? "", 10);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : 0;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
