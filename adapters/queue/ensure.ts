import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { physicalName, type QueueDefinition } from "../../infra/definitions.ts";

export interface EnsuredQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** false when the queue existed already (its attributes were then brought in line with the definition). */
  readonly created: boolean;
}

/**
 * Creates the queues of `definitions` that are missing (physical name = prefix + name) and aligns the attributes of
 * those that exist, dead-letter queues first so a RedrivePolicy can name their ARN. Idempotent; works on fauxqs and
 * Amazon SQS. Returns the queues by logical name.
 */
export async function ensureQueues(
  sqs: SQSClient,
  prefix: string,
  definitions: readonly QueueDefinition[],
): Promise<Map<string, EnsuredQueue>> {
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  const ensured = new Map<string, EnsuredQueue>();
  const ensure = async (definition: QueueDefinition, path: readonly string[]): Promise<EnsuredQueue> => {
    const done = ensured.get(definition.name);
    if (done) return done;
    if (path.includes(definition.name))
      throw new Error(`dead-letter cycle: ${[...path, definition.name].join(" -> ")}`);
    const attributes = baseAttributes(definition);
    const deadLetter = definition.deadLetter;
    if (deadLetter) {
      const target = byName.get(deadLetter.name);
      if (!target) throw new Error(`queue ${definition.name}: dead-letter queue ${deadLetter.name} is not defined`);
      const dlq = await ensure(target, [...path, definition.name]);
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: dlq.arn,
        maxReceiveCount: deadLetter.maxReceiveCount,
      });
    }
    const result = await ensureOne(sqs, physicalName(prefix, definition.name), attributes);
    ensured.set(definition.name, result);
    return result;
  };
  for (const definition of definitions) await ensure(definition, []);
  return ensured;
}

function baseAttributes(definition: QueueDefinition): Partial<Record<QueueAttributeName, string>> {
  return {
    VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: String(definition.receiveWaitSeconds),
    MessageRetentionPeriod: String(definition.retentionSeconds),
  };
}

async function ensureOne(
  sqs: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
): Promise<EnsuredQueue> {
  let url = await existingUrl(sqs, name);
  const created = url === undefined;
  if (url === undefined) {
    // CreateQueue is itself idempotent for equal attributes, so a concurrent creator is harmless.
    const output = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    url = output.QueueUrl;
  } else {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }
  if (!url) throw new Error(`CreateQueue returned no URL for ${name}`);
  const output = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  const arn = output.Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${name} has no QueueArn`);
  return { name, url, arn, created };
}

async function existingUrl(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    const output = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return output.QueueUrl;
  } catch (error) {
    if (isQueueMissing(error)) return undefined;
    throw error;
  }
}

function isQueueMissing(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { Code?: unknown }).Code;
  return (
    error.name === "QueueDoesNotExist" ||
    error.name === "AWS.SimpleQueueService.NonExistentQueue" ||
    code === "AWS.SimpleQueueService.NonExistentQueue"
  );
}
